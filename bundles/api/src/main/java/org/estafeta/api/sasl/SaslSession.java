package org.estafeta.api.sasl;

import java.util.Objects;
import org.estafeta.api.message.ClientInfo;

/**
 * The SMTP session an AUTH exchange belongs to, as Dovecot's auth protocol and the log want it.
 *
 * @param client the client ({@link ClientInfo#tls()} tells whether the session is encrypted)
 * @param clientPort the client's TCP port
 * @param localAddress the address the client connected to
 * @param localPort the port the client connected to
 * @param service the master.cf service name ({@code smtp}, {@code submission}, {@code 8025})
 * @param realm {@code smtpd_sasl_local_domain}, empty when not set
 */
public record SaslSession(ClientInfo client, int clientPort, String localAddress, int localPort, String service,
        String realm) {
    public SaslSession {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(localAddress, "localAddress");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(realm, "realm");
    }
}
