package org.estafeta.transport.error.internal;

import java.util.List;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.Transport;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code discard} transport, Postfix's discard(8): reports every recipient delivered without delivering it,
 * with the next hop as the text, as Postfix logs {@code relay=none, ..., status=sent (text)} (no "discarded" prefix).
 * Without a code, or with one that is not 2.x.y, the code is {@code 2.0.0}.
 */
@Component(property = Transport.NAME + "=discard")
public final class DiscardTransport implements Transport {
    @Override
    public List<RecipientResult> deliver(DeliveryRequest request, PluginContext context) {
        return NexthopReason.all(request, RecipientResult.Status.DELIVERED, "2.0.0");
    }
}
