package org.estafeta.api.filter;

import java.util.Objects;

import org.estafeta.api.message.Reply;

/**
 * What a {@link FilterSession} answered to one event. A value, not a callback: the gateway acts on it. What a
 * refusal refuses depends on the event it answers:
 * <ul>
 * <li>CONNECT or HELO: the session, as Postfix treats a milter's refusal at these stages: every MAIL FROM of the
 * session is answered with the reply; a 5xx at CONNECT turns the greeting into {@code 554 HOST ESMTP not accepting
 * connections} and EHLO then announces ENHANCEDSTATUSCODES only; HELO and EHLO themselves are answered 250; a
 * {@code 421} closes the connection;</li>
 * <li>MAIL or DATA: this transaction, at that command;</li>
 * <li>RCPT: this recipient only, at that RCPT command;</li>
 * <li>a header, the end of the headers or a body chunk: the message, at the end of DATA (nothing is queued).</li>
 * </ul>
 *
 * @since 1.2
 */
public sealed interface EventVerdict permits EventVerdict.Continue, EventVerdict.Accept, EventVerdict.Reject,
        EventVerdict.Defer, EventVerdict.Discard, EventVerdict.Hold, EventVerdict.Replace {

    /** Go on: the next filter gets the event, and this one the next event. */
    record Continue() implements EventVerdict {
    }

    /**
     * This filter accepts the message (at CONNECT or HELO: everything of the session) and wants no more events for
     * it: milter's SMFIR_ACCEPT, header_checks' PASS. It is not asked at the end of the message either.
     */
    record Accept() implements EventVerdict {
    }

    /** Refuse with a 5xx reply (see the class comment for what is refused). */
    record Reject(Reply reply) implements EventVerdict {
        public Reject {
            if (!reply.isPermanent()) {
                throw new IllegalArgumentException("Reject needs a 5xx reply: " + reply);
            }
        }
    }

    /** Refuse for now with a 4xx reply; the client tries again later. */
    record Defer(Reply reply) implements EventVerdict {
        public Defer {
            if (!reply.isTransient()) {
                throw new IllegalArgumentException("Defer needs a 4xx reply: " + reply);
            }
        }
    }

    /**
     * From MAIL on: the message is acknowledged as if queued and thrown away (Postfix's DISCARD); no filter gets
     * further events of it. {@code reason} goes to the log.
     */
    record Discard(String reason) implements EventVerdict {
        public Discard {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** From MAIL on: the message goes to the hold queue once received (Postfix's HOLD); events go on. */
    record Hold(String reason) implements EventVerdict {
        public Hold {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * For a header or a body chunk only: these bytes take its place in the message, and later filters see them
     * instead. For a header, complete header lines (CRLF after each; empty deletes the header, the old text after new
     * lines keeps it below them); lines that are not header lines are written as they are but an empty line is
     * dropped, so that a filter can never end the header section early. For a body chunk, the new bytes of that
     * chunk. Answered to any other event it counts as {@link Continue}.
     */
    record Replace(byte[] bytes) implements EventVerdict {
        public Replace {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Replace r && java.util.Arrays.equals(bytes, r.bytes);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Replace[" + bytes.length + " bytes]";
        }
    }

    Continue CONTINUE = new Continue();

    Accept ACCEPT = new Accept();

    /** A header replaced by {@code lines} (each without its line end; none: deleted). */
    static Replace replaceHeader(String... lines) {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l).append("\r\n");
        }
        return new Replace(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
