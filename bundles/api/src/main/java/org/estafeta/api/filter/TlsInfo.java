package org.estafeta.api.filter;

import java.util.Objects;
import java.util.Optional;

/**
 * The TLS the client started with STARTTLS, for {@link FilterSession#tls} (what Postfix passes milters as
 * {@code {tls_version}}, {@code {cipher}}, {@code {cipher_bits}}, {@code {cert_subject}}, {@code {cert_issuer}}).
 *
 * @param protocol {@code TLSv1.3}
 * @param cipher the cipher suite, e.g. {@code TLS_AES_256_GCM_SHA384}
 * @param bits the cipher's key bits
 * @param peerSubject the common name of the client's certificate, when it presented one
 * @param peerIssuer the common name of its issuer, when it presented one
 * @since 1.2
 */
public record TlsInfo(String protocol, String cipher, int bits, Optional<String> peerSubject,
        Optional<String> peerIssuer) {
    public TlsInfo {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(cipher, "cipher");
        Objects.requireNonNull(peerSubject, "peerSubject");
        Objects.requireNonNull(peerIssuer, "peerIssuer");
    }
}
