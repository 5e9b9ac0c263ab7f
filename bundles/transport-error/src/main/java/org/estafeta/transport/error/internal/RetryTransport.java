package org.estafeta.transport.error.internal;

import java.util.List;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.Transport;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code retry} transport, Postfix's error(8) under the service name retry: defers every recipient with the next
 * hop as the reason ({@code retry:4.3.2 down for maintenance}). Without a code, or with a code that is not 4.x.y,
 * the code is {@code 4.0.0}; {@code relay=none}.
 */
@Component(property = Transport.NAME + "=retry")
public final class RetryTransport implements Transport {
    @Override
    public List<RecipientResult> deliver(DeliveryRequest request, PluginContext context) {
        return NexthopReason.all(request, RecipientResult.Status.DEFERRED, "4.0.0");
    }
}
