package org.estafeta.transport.error.internal;

import java.util.List;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.Transport;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code error} transport, Postfix's error(8): bounces every recipient with the next hop as the reason, so that
 * {@code example.com error:5.1.1 mailbox unavailable} in a transport table bounces with {@code 5.1.1} and that text.
 * Without a code, or with a code that is not 5.x.y, the code is {@code 5.0.0}; {@code relay=none}.
 *
 * <p>As in Postfix, the same program defers instead when its master.cf service is named {@code retry} (stock
 * master.cf: {@code retry unix - - n - - error}), exactly as the {@code retry} transport does.
 */
@Component(property = Transport.NAME + "=error")
public final class ErrorTransport implements Transport {
    @Override
    public List<RecipientResult> deliver(DeliveryRequest request, PluginContext context) {
        if ("retry".equals(request.service())) {
            return NexthopReason.all(request, RecipientResult.Status.DEFERRED, "4.0.0");
        }
        return NexthopReason.all(request, RecipientResult.Status.BOUNCED, "5.0.0");
    }
}
