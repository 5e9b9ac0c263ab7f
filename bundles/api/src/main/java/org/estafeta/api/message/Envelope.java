package org.estafeta.api.message;

import java.util.List;
import java.util.Objects;

/**
 * The envelope of one message: who sent it, to whom, and from which client.
 *
 * @param queueId the queue ID the gateway gave the message (the one in {@code 250 2.0.0 Ok: queued as ID})
 * @param sender the envelope sender; empty for the null sender {@code <>} of bounces
 * @param recipients the envelope recipients, in the order they were accepted; never empty
 * @param client the client that handed the message over
 */
public record Envelope(String queueId, String sender, List<String> recipients, ClientInfo client) {
    public Envelope {
        Objects.requireNonNull(queueId, "queueId");
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(client, "client");
        recipients = List.copyOf(recipients);
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("an envelope needs at least one recipient");
        }
    }

    /** Whether the sender is the null sender {@code <>}. */
    public boolean isBounce() {
        return sender.isEmpty();
    }
}
