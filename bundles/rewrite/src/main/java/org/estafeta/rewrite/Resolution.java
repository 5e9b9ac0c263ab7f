package org.estafeta.rewrite;

import java.util.Objects;

/**
 * Where one recipient goes.
 *
 * @param addressClass the class of the recipient's domain
 * @param transport the master.cf service name to deliver with ({@code smtp}, {@code relay}, {@code local},
 *        {@code error} …)
 * @param nexthop the next hop for that transport ({@code example.com}, {@code [10.0.0.1]:25}, for {@code error}
 *        the text of the bounce, for {@code local} the recipient's domain or {@code $myhostname}); never empty
 * @param recipient the recipient to hand to the transport (the address as queued, with a bare name completed
 *        to {@code name@$myorigin} as Postfix's rewrite does)
 */
public record Resolution(AddressClass addressClass, String transport, String nexthop, String recipient) {
    public Resolution {
        Objects.requireNonNull(addressClass, "addressClass");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(nexthop, "nexthop");
        Objects.requireNonNull(recipient, "recipient");
        if (transport.isEmpty()) {
            throw new IllegalArgumentException("empty transport");
        }
    }

    /** Postfix's address classes (ADDRESS_CLASS(5) in ADDRESS_CLASS_README). */
    public enum AddressClass {
        /** {@code mydestination}, {@code inet_interfaces}, {@code proxy_interfaces}: {@code local_transport}. */
        LOCAL,
        /** {@code virtual_alias_domains}: mail for them must be rewritten by virtual_alias_maps first (else 5.1.1). */
        VIRTUAL_ALIAS,
        /** {@code virtual_mailbox_domains}: {@code virtual_transport}. */
        VIRTUAL_MAILBOX,
        /** {@code relay_domains}: {@code relay_transport}. */
        RELAY,
        /** everything else: {@code default_transport}, or {@code relayhost}. */
        DEFAULT
    }
}
