package org.estafeta.milter;

import java.util.Locale;

/**
 * {@code milter_default_action} (or a milter's {@code default_action=}): what happens when a milter cannot be reached,
 * times out, breaks the protocol or is misconfigured. The milter is then skipped for the rest of the session, and,
 * as in Postfix, every further event of the session gets the same answer (for {@link #ACCEPT}: none).
 */
public enum DefaultAction {
    /** Carry on as if the milter did not exist. */
    ACCEPT,
    /** Reject: {@code 550 5.5.0 Service unavailable} (a configuration error: {@code 451 4.3.5 ...}). */
    REJECT,
    /** Defer: {@code 451 4.7.1 Service unavailable - try again later} (Postfix's default). */
    TEMPFAIL,
    /** Accept the message but place it on hold (Postfix's quarantine), reason {@code default_action}. */
    QUARANTINE;

    /** The value as written in main.cf; throws {@link IllegalArgumentException} naming {@code parameter}. */
    public static DefaultAction parse(String parameter, String value) {
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "accept" -> ACCEPT;
            case "reject" -> REJECT;
            case "tempfail" -> TEMPFAIL;
            case "quarantine" -> QUARANTINE;
            default -> throw new IllegalArgumentException(parameter + ": unrecognized default action: " + value.strip()
                    + " (expected accept, reject, tempfail or quarantine)");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
