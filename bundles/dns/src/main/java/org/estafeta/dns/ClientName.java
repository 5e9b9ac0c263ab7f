package org.estafeta.dns;

import java.net.InetAddress;
import java.util.Objects;

/**
 * The client's names as Postfix's smtpd works them out: the reverse name (the PTR name of the address) and the
 * verified name (a PTR name whose A or AAAA records contain the address again). Postfix calls them
 * {@code reverse_client_name} and {@code client_name}; either is {@code unknown} when it could not be established,
 * and the status says whether that is definite or temporary ({@code reject_unknown_client_hostname} answers 450
 * for a temporary failure, {@code unknown_client_reject_code} otherwise).
 *
 * @param address the client address
 * @param name the verified (forward-confirmed) name, lower case, or {@link #UNKNOWN}
 * @param status {@link Outcome#FOUND} when {@code name} is verified; {@link Outcome#NOT_FOUND} when the address has
 *               no PTR name, or none of its PTR names resolves back to it; {@link Outcome#TEMPORARY_FAILURE} when
 *               a lookup on the way failed temporarily
 * @param reverseName the first valid PTR name, lower case, or {@link #UNKNOWN}
 * @param reverseStatus {@link Outcome#FOUND} when there is a reverse name, else why not
 * @param detail for logs: why the name is unknown (empty when verified)
 */
public record ClientName(InetAddress address, String name, Outcome status, String reverseName, Outcome reverseStatus,
        String detail) {
    /** What Postfix writes for a name it could not establish. */
    public static final String UNKNOWN = "unknown";

    public ClientName {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(reverseName, "reverseName");
        Objects.requireNonNull(reverseStatus, "reverseStatus");
        Objects.requireNonNull(detail, "detail");
    }

    public boolean isVerified() {
        return status == Outcome.FOUND;
    }
}
