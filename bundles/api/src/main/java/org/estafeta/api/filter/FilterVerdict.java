package org.estafeta.api.filter;

import java.util.List;
import java.util.Objects;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.Reply;

/**
 * What a content filter decided about one message. A value, not a callback: the gateway acts on it.
 */
public sealed interface FilterVerdict
        permits FilterVerdict.Accept, FilterVerdict.Modify, FilterVerdict.Reject, FilterVerdict.Defer,
        FilterVerdict.Discard, FilterVerdict.Hold {

    /** Pass the message on, adding these headers at the top (for example {@code X-Spam-Status}). */
    record Accept(List<Header> addHeaders) implements FilterVerdict {
        public Accept {
            addHeaders = List.copyOf(addHeaders);
        }
    }

    /**
     * Pass the message on with changes, as a milter's modification requests: {@code addHeaders} on top (as
     * {@link Accept}), then {@code edits} to the headers as the client sent them, {@code addRecipients} added to the
     * envelope (as they are: no address rewriting, default DSN), and the body replaced by {@code body}, a file the
     * filter wrote (CRLF line ends, no dot-stuffing) and hands over: the gateway reads it before the message is
     * queued and then deletes it. Later filters in the chain see the message without these edits and without the
     * new body (they do see the added headers), as later milters do in Estafeta.
     *
     * @since 1.1
     */
    record Modify(List<Header> addHeaders, List<HeaderEdit> edits, List<String> addRecipients,
            java.util.Optional<java.nio.file.Path> body) implements FilterVerdict {
        public Modify {
            addHeaders = List.copyOf(addHeaders);
            edits = List.copyOf(edits);
            addRecipients = List.copyOf(addRecipients);
            Objects.requireNonNull(body, "body");
        }
    }

    /** Refuse the message permanently with a 5xx reply (sent to the client, or in a bounce). */
    record Reject(Reply reply) implements FilterVerdict {
        public Reject {
            if (!reply.isPermanent()) {
                throw new IllegalArgumentException("Reject needs a 5xx reply: " + reply);
            }
        }
    }

    /** Refuse the message for now with a 4xx reply; the client or the queue tries again later. */
    record Defer(Reply reply) implements FilterVerdict {
        public Defer {
            if (!reply.isTransient()) {
                throw new IllegalArgumentException("Defer needs a 4xx reply: " + reply);
            }
        }
    }

    /** Accept the message and throw it away (Postfix's DISCARD); {@code reason} goes to the log. */
    record Discard(String reason) implements FilterVerdict {
        public Discard {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** Accept the message and put it in the hold queue for an administrator (Postfix's HOLD). */
    record Hold(String reason) implements FilterVerdict {
        public Hold {
            Objects.requireNonNull(reason, "reason");
        }
    }

    Accept ACCEPT = new Accept(List.of());

    static FilterVerdict accept() {
        return ACCEPT;
    }
}
