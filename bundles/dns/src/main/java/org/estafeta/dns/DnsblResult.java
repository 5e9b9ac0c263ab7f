package org.estafeta.dns;

import java.net.InetAddress;
import java.util.Objects;

/**
 * The answer of a DNS block list: the A records of the query name (the listing codes, such as {@code 127.0.0.2})
 * and, when listed, the TXT reason.
 *
 * @param query the name asked for, e.g. {@code 2.0.0.127.zen.example} or {@code spammer.example.dbl.example}
 * @param addresses the A lookup of {@code query}: found means listed
 * @param reason the TXT records of {@code query} joined with a space when listed and present (Postfix's
 *               {@code $rbl_reason}); empty otherwise, also when the TXT lookup failed
 */
public record DnsblResult(String query, DnsResult<InetAddress> addresses, String reason) {
    public DnsblResult {
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(addresses, "addresses");
        Objects.requireNonNull(reason, "reason");
    }

    public Outcome outcome() {
        return addresses.outcome();
    }

    public boolean isListed() {
        return addresses.isFound();
    }
}
