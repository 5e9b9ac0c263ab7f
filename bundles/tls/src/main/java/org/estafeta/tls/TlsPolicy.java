package org.estafeta.tls;

import java.util.Locale;

import org.estafeta.config.ConfigSnapshot;

/**
 * The server's TLS security level as Postfix's smtpd computes it: {@code smtpd_tls_security_level} when it is set,
 * else the pre-2.3 booleans ({@code smtpd_enforce_tls = yes} means {@code encrypt}, else {@code smtpd_use_tls = yes}
 * means {@code may}), else {@code none}.
 */
public enum TlsPolicy {
    /** No STARTTLS: not announced, and the command answers {@code 502 5.5.1 Error: command not implemented}. */
    NONE,
    /** Opportunistic: STARTTLS is announced and accepted. */
    MAY,
    /** Mandatory: STARTTLS is announced, and MAIL etc. get {@code 530 5.7.0 Must issue a STARTTLS command first}. */
    ENCRYPT;

    /**
     * The level of {@code config}.
     *
     * @throws IllegalArgumentException for a value Postfix does not know ({@code smtpd_tls_security_level: bad value})
     */
    public static TlsPolicy of(ConfigSnapshot config) {
        String level = config.get("smtpd_tls_security_level").orElse("").trim().toLowerCase(Locale.ROOT);
        if (level.isEmpty()) {
            if (yes(config, "smtpd_enforce_tls")) {
                return ENCRYPT;
            }
            return yes(config, "smtpd_use_tls") ? MAY : NONE;
        }
        return switch (level) {
            case "none" -> NONE;
            case "may" -> MAY;
            case "encrypt" -> ENCRYPT;
            default -> throw new IllegalArgumentException("invalid smtpd_tls_security_level value: \"" + level
                    + "\" (supported: none, may, encrypt)");
        };
    }

    private static boolean yes(ConfigSnapshot config, String name) {
        return config.get(name).isPresent() && config.bool(name);
    }

    /** Whether STARTTLS is offered at this level. */
    public boolean offered() {
        return this != NONE;
    }
}
