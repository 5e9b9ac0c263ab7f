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
     * <p>Since 1.2 also: {@code removeRecipients} taken out of the envelope (a recipient a filter both adds and
     * removes is removed; removing every recipient discards the message); {@code sender} the new envelope sender
     * (empty string: the null sender); {@code redirect} an address that replaces every recipient at delivery
     * (Postfix's REDIRECT: the log keeps each original recipient as {@code orig_to}); {@code route} a
     * {@code transport:destination} the queue manager delivers the message through instead of the usual routing
     * (Postfix's FILTER); {@code blindCopies} recipients added as Postfix's BCC action adds them: rewritten like any
     * recipient, never notified ({@code NOTIFY=NEVER}).
     *
     * @since 1.1
     */
    record Modify(List<Header> addHeaders, List<HeaderEdit> edits, List<String> addRecipients,
            java.util.Optional<java.nio.file.Path> body, List<String> removeRecipients,
            java.util.Optional<String> sender, java.util.Optional<String> redirect, java.util.Optional<String> route,
            List<String> blindCopies) implements FilterVerdict {
        public Modify {
            addHeaders = List.copyOf(addHeaders);
            edits = List.copyOf(edits);
            addRecipients = List.copyOf(addRecipients);
            Objects.requireNonNull(body, "body");
            removeRecipients = List.copyOf(removeRecipients);
            Objects.requireNonNull(sender, "sender");
            Objects.requireNonNull(redirect, "redirect");
            Objects.requireNonNull(route, "route");
            blindCopies = List.copyOf(blindCopies);
            if (route.isPresent() && route.get().indexOf(':') < 0) {
                throw new IllegalArgumentException("route needs transport:destination: " + route.get());
            }
        }

        /** The changes of api 1.1: headers, header edits, added recipients, the body. */
        public Modify(List<Header> addHeaders, List<HeaderEdit> edits, List<String> addRecipients,
                java.util.Optional<java.nio.file.Path> body) {
            this(addHeaders, edits, addRecipients, body, List.of(), java.util.Optional.empty(),
                    java.util.Optional.empty(), java.util.Optional.empty(), List.of());
        }

        /** Only envelope changes (recipients removed and added, a new sender), nothing of the content. @since 1.2 */
        public static Modify envelope(List<String> addRecipients, List<String> removeRecipients,
                java.util.Optional<String> sender) {
            return new Modify(List.of(), List.of(), addRecipients, java.util.Optional.empty(), removeRecipients,
                    sender, java.util.Optional.empty(), java.util.Optional.empty(), List.of());
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

    /**
     * Accept the message and put it in the hold queue for an administrator (Postfix's HOLD). Since 1.2 a hold may
     * carry {@code changes} (an {@link Accept} or {@link Modify}) applied to what is held, as Postfix applies a milter's
     * modifications to a message the milter quarantines.
     */
    record Hold(String reason, java.util.Optional<FilterVerdict> changes) implements FilterVerdict {
        public Hold {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(changes, "changes");
            if (changes.isPresent() && !(changes.get() instanceof Accept) && !(changes.get() instanceof Modify)) {
                throw new IllegalArgumentException("a hold carries an Accept or a Modify: " + changes.get());
            }
        }

        /** A hold without changes. */
        public Hold(String reason) {
            this(reason, java.util.Optional.empty());
        }
    }

    Accept ACCEPT = new Accept(List.of());

    static FilterVerdict accept() {
        return ACCEPT;
    }
}
