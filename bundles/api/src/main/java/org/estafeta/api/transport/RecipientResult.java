package org.estafeta.api.transport;

import java.util.Objects;
import org.estafeta.api.message.Reply;

/**
 * What became of one recipient: delivered, deferred (try again later) or bounced (give up, send a DSN).
 *
 * @param recipient the recipient address, as in the request
 * @param status the outcome
 * @param reply the reply that explains it, as Postfix logs it in {@code status=... (reply)}; for a delivery,
 *        the remote's {@code 250} reply
 */
public record RecipientResult(String recipient, Status status, Reply reply) {
    public enum Status {
        DELIVERED, DEFERRED, BOUNCED
    }

    public RecipientResult {
        Objects.requireNonNull(recipient, "recipient");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(reply, "reply");
        if (status == Status.BOUNCED && !reply.isPermanent()) {
            throw new IllegalArgumentException("a bounce needs a 5xx reply: " + reply);
        }
        if (status == Status.DEFERRED && !reply.isTransient()) {
            throw new IllegalArgumentException("a deferral needs a 4xx reply: " + reply);
        }
    }
}
