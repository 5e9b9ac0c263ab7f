package org.estafeta.transport.smtp;

import java.util.List;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.Transport;
import org.estafeta.dns.DnsResolver;
import org.estafeta.tables.TableService;
import org.estafeta.transport.smtp.internal.SmtpClient;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.LoggerFactory;

/**
 * The {@code lmtp} transport, Postfix's lmtp(8): next hops {@code host}, {@code host:port}, {@code inet:host:port},
 * {@code [host]:port} (no MX lookup) and UNIX-domain sockets {@code unix:/path} or {@code unix:private/name} (under
 * {@code queue_directory}, {@code relay=$myhostname[path]}), LHLO and one reply per recipient after the final dot,
 * the {@code lmtp_*} parameters of the service's context. Logs as {@code lmtp}.
 */
@Component(service = Transport.class, property = Transport.NAME + "=lmtp")
public final class LmtpTransport implements Transport {
    private final SmtpClient client;

    @Activate
    public LmtpTransport(@Reference DnsResolver resolver, @Reference TableService tables) {
        this.client = new SmtpClient(true, resolver, tables, LoggerFactory.getLogger("lmtp"));
    }

    @Deactivate
    void deactivate() {
        client.close();
    }

    @Override
    public List<RecipientResult> deliver(DeliveryRequest request, PluginContext context) {
        return client.deliver(request, context);
    }
}
