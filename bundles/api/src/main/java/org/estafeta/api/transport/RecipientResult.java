package org.estafeta.api.transport;

import java.util.Objects;
import org.estafeta.api.message.Reply;

/**
 * What became of one recipient: delivered, deferred (try again later) or bounced (give up, send a DSN).
 *
 * @param recipient the recipient address, as in the request
 * @param status the outcome
 * @param reply the reply that explains it; its text is exactly what Postfix logs between the parentheses of
 *        {@code status=sent (...)}: for a remote server the whole reply ({@code 250 2.0.0 Ok: queued as X}) or
 *        {@code host mx.example.com[192.0.2.1] said: 550 5.1.1 ... (in reply to RCPT TO command)}, for local work
 *        the agent's words ({@code delivered via filtro service})
 * @param relay where the attempt went, as Postfix logs it in {@code relay=}: {@code mx.example.com[192.0.2.1]:25}
 *        for a remote host, the transport name ({@code local}, {@code pipe}) for local work, {@code none} when no
 *        host was reached
 * @since 1.1 for {@code relay}
 */
public record RecipientResult(String recipient, Status status, Reply reply, String relay) {
    public enum Status {
        DELIVERED, DEFERRED, BOUNCED
    }

    public RecipientResult {
        Objects.requireNonNull(recipient, "recipient");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(reply, "reply");
        Objects.requireNonNull(relay, "relay");
        if (status == Status.BOUNCED && !reply.isPermanent()) {
            throw new IllegalArgumentException("a bounce needs a 5xx reply: " + reply);
        }
        if (status == Status.DEFERRED && !reply.isTransient()) {
            throw new IllegalArgumentException("a deferral needs a 4xx reply: " + reply);
        }
        if (status == Status.DELIVERED && reply.code() >= 400) {
            throw new IllegalArgumentException("a delivery needs a 2xx reply: " + reply);
        }
    }

    /** The 1.0 form, with {@code relay=none}. */
    public RecipientResult(String recipient, Status status, Reply reply) {
        this(recipient, status, reply, "none");
    }

    public static RecipientResult delivered(String recipient, Reply reply, String relay) {
        return new RecipientResult(recipient, Status.DELIVERED, reply, relay);
    }

    public static RecipientResult deferred(String recipient, Reply reply, String relay) {
        return new RecipientResult(recipient, Status.DEFERRED, reply, relay);
    }

    public static RecipientResult bounced(String recipient, Reply reply, String relay) {
        return new RecipientResult(recipient, Status.BOUNCED, reply, relay);
    }
}
