package org.estafeta.tls;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * A ready server TLS context, with the protocols the configuration allows for its security level.
 *
 * @param context the JSSE context holding the server's key and certificate chain
 * @param protocols the JSSE protocol names to enable ({@code TLSv1.2}, {@code TLSv1.3} ...), from
 *        {@code smtpd_tls_protocols} (level {@code may}) or {@code smtpd_tls_mandatory_protocols} ({@code encrypt})
 * @param chain the server's certificate chain, leaf first
 * @param source where the key and certificate came from (file names, or the generated certificate's path)
 */
public record ServerTls(SSLContext context, List<String> protocols, List<X509Certificate> chain, String source) {
    public ServerTls {
        Objects.requireNonNull(context, "context");
        protocols = List.copyOf(protocols);
        chain = List.copyOf(chain);
        Objects.requireNonNull(source, "source");
    }

    /** A new server-mode engine with {@link #protocols()} enabled. */
    public SSLEngine newEngine() {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        engine.setEnabledProtocols(protocols.toArray(String[]::new));
        return engine;
    }
}
