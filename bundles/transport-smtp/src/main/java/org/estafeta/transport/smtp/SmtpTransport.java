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
 * The {@code smtp} transport, Postfix's smtp(8): next hops {@code domain} (MX lookup), {@code [host]},
 * {@code [host]:port}, {@code host:port}, the {@code smtp_*} parameters of the service's context (STARTTLS with
 * {@code smtp_tls_*}, SMTP AUTH with {@code smtp_sasl_*}), and results with Postfix's texts. Logs as {@code smtp}.
 */
@Component(service = Transport.class, property = Transport.NAME + "=smtp")
public final class SmtpTransport implements Transport {
    private final SmtpClient client;

    @Activate
    public SmtpTransport(@Reference DnsResolver resolver, @Reference TableService tables) {
        this.client = new SmtpClient(false, resolver, tables, LoggerFactory.getLogger("smtp"));
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
