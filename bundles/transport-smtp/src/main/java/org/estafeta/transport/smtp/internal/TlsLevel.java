package org.estafeta.transport.smtp.internal;

import java.util.Locale;

/** Postfix's client TLS security levels that Estafeta implements, weakest first (tls_level.c's order). */
enum TlsLevel {
    /** No STARTTLS. */
    NONE,
    /** Opportunistic: STARTTLS when offered; plain text when not, or after a failed handshake. */
    MAY,
    /** Mandatory encryption, no certificate check. */
    ENCRYPT,
    /** Mandatory encryption with a trusted certificate that matches {@code *_tls_verify_cert_match}. */
    VERIFY,
    /** The same, matching {@code *_tls_secure_cert_match}. */
    SECURE;

    /** The level named {@code name}, or null for a name Estafeta does not know. */
    static TlsLevel parse(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "none" -> NONE;
            case "may" -> MAY;
            case "encrypt" -> ENCRYPT;
            case "verify" -> VERIFY;
            case "secure" -> SECURE;
            default -> null;
        };
    }

    /** Whether delivery needs TLS (Postfix's TLS_REQUIRED_BY_SECURITY_LEVEL). */
    boolean required() {
        return compareTo(ENCRYPT) >= 0;
    }

    /** Whether the certificate must be trusted and match (TLS_MUST_MATCH). */
    boolean mustMatch() {
        return compareTo(VERIFY) >= 0;
    }

    String lowerName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
