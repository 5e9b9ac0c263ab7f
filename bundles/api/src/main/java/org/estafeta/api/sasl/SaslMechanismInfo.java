package org.estafeta.api.sasl;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A mechanism a {@link SaslServer} offers, with the properties smtpd's {@code *_sasl_security_options} filter on.
 *
 * @param name the mechanism name as advertised ({@code PLAIN}, {@code SCRAM-SHA-256}), upper case
 * @param flags what the mechanism is (Dovecot's MECH flags, with their meaning)
 */
public record SaslMechanismInfo(String name, Set<Flag> flags) {
    /** Dovecot's mechanism flags; Postfix maps its security options onto exactly these. */
    public enum Flag {
        /** Anonymous login ({@code noanonymous} hides it). */
        ANONYMOUS,
        /** The password travels in the clear ({@code noplaintext} hides it). */
        PLAINTEXT,
        /** Open to an offline dictionary attack ({@code nodictionary} hides it). */
        DICTIONARY,
        /** Open to an active, non-dictionary attack ({@code noactive} hides it). */
        ACTIVE,
        /** Offers forward secrecy ({@code forward_secrecy} requires it). */
        FORWARD_SECRECY,
        /** Authenticates the server too ({@code mutual_auth} requires it). */
        MUTUAL_AUTH
    }

    public SaslMechanismInfo {
        Objects.requireNonNull(name, "name");
        name = name.toUpperCase(Locale.ROOT);
        flags = Set.copyOf(flags);
    }
}
