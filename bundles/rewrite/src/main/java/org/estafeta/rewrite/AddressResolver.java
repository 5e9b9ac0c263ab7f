package org.estafeta.rewrite;

import org.estafeta.config.ConfigSnapshot;

/**
 * Postfix's trivial-rewrite {@code resolve} request as a service: the address class of a recipient and the
 * transport, next hop and (possibly rewritten) recipient its delivery goes to, following Postfix's rules
 * (address classes, {@code transport_maps} lookup order, {@code relayhost}, {@code sender_dependent_relayhost_maps},
 * {@code *_transport} defaults). Registered by the rewrite bundle.
 *
 * <p><b>Threading and blocking:</b> any thread; may block on table lookups (never call it on an event loop).
 */
public interface AddressResolver {
    /**
     * Resolves one recipient of a message.
     *
     * @param config the snapshot the delivery works with
     * @param sender the envelope sender (for {@code sender_dependent_relayhost_maps}), empty for {@code <>}
     * @param recipient the recipient address as queued ({@code user@example.com}, a bare {@code user}, or
     *        {@code postmaster})
     * @throws ResolutionException when a table lookup failed temporarily: the recipient is deferred with the
     *         exception's message as the reason
     */
    Resolution resolve(ConfigSnapshot config, String sender, String recipient) throws ResolutionException;
}
