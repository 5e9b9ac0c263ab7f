package org.estafeta.tls;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

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
 * @param askClientCertificate {@code smtpd_tls_ask_ccert} (or {@code smtpd_tls_req_ccert}): the server asks the
 *        client for a certificate; any certificate is accepted in the handshake, and {@link #trusted} says
 *        afterwards whether it verifies, as Postfix's "Trusted"/"Untrusted" TLS connections
 * @param authorities the CA certificates of {@code smtpd_tls_CAfile} and {@code smtpd_tls_CApath}: their names
 *        go in the certificate request, and client certificates are verified against them
 * @param cipherSuites the JSSE cipher suites to enable ({@code smtpd_tls_ciphers} and the exclusions), empty for
 *        the JSSE defaults
 */
public record ServerTls(SSLContext context, List<String> protocols, List<X509Certificate> chain, String source,
        boolean askClientCertificate, List<X509Certificate> authorities, List<String> cipherSuites) {
    public ServerTls {
        Objects.requireNonNull(context, "context");
        protocols = List.copyOf(protocols);
        chain = List.copyOf(chain);
        Objects.requireNonNull(source, "source");
        authorities = List.copyOf(authorities);
        cipherSuites = List.copyOf(cipherSuites);
    }

    public ServerTls(SSLContext context, List<String> protocols, List<X509Certificate> chain, String source) {
        this(context, protocols, chain, source, false, List.of(), List.of());
    }

    /** A new server-mode engine with {@link #protocols()} enabled, asking for a client certificate when configured. */
    public SSLEngine newEngine() {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        engine.setEnabledProtocols(protocols.toArray(String[]::new));
        if (!cipherSuites.isEmpty()) {
            engine.setEnabledCipherSuites(cipherSuites.toArray(String[]::new));
        }
        if (askClientCertificate) {
            engine.setWantClientAuth(true);
        }
        return engine;
    }

    /**
     * Whether a client's certificate chain (leaf first) verifies against {@link #authorities} (PKIX, without
     * revocation checks, as Postfix with OpenSSL and no CRLs). False without authorities or without a chain.
     */
    public boolean trusted(List<X509Certificate> peerChain) {
        if (peerChain.isEmpty() || authorities.isEmpty()) {
            return false;
        }
        try {
            Set<TrustAnchor> anchors = authorities.stream().map(c -> new TrustAnchor(c, null)).collect(Collectors.toSet());
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            // the client sent its chain; an anchor it included is not part of the path to validate
            List<X509Certificate> path = peerChain.stream().filter(c -> !authorities.contains(c)).toList();
            if (path.isEmpty()) {
                return true;
            }
            CertPathValidator.getInstance("PKIX")
                    .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }
}
