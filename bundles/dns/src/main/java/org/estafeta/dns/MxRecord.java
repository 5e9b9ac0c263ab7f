package org.estafeta.dns;

import java.util.Objects;

/**
 * One MX record.
 *
 * @param preference lower is tried first
 * @param host the exchanger's name without the trailing dot; {@code "."} for a null MX (RFC 7505)
 */
public record MxRecord(int preference, String host) {
    public MxRecord {
        Objects.requireNonNull(host, "host");
    }

    /** Whether this is RFC 7505's null MX ({@code 0 .}): the domain accepts no mail. */
    public boolean isNullMx() {
        return host.equals(".");
    }
}
