package org.estafeta.api.filter;

import java.util.List;
import java.util.Objects;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.Reply;

/**
 * What a content filter decided about one message. A value, not a callback: the gateway acts on it.
 */
public sealed interface FilterVerdict
        permits FilterVerdict.Accept, FilterVerdict.Reject, FilterVerdict.Defer, FilterVerdict.Discard, FilterVerdict.Hold {

    /** Pass the message on, adding these headers at the top (for example {@code X-Spam-Status}). */
    record Accept(List<Header> addHeaders) implements FilterVerdict {
        public Accept {
            addHeaders = List.copyOf(addHeaders);
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
