package org.estafeta.api.filter;

import java.nio.ByteBuffer;
import java.util.Map;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.MessageContent;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One session of a {@link SessionFilter}: the events of one SMTP connection in the order they happen. Each method
 * has a default that lets everything pass, so a filter implements only the events it needs.
 *
 * <p>Order: {@link #connect}, then any number of {@link #helo} (a client may say EHLO again after STARTTLS), then per
 * transaction {@link #mail}, {@link #rcpt} for each recipient the gateway accepted so far, {@link #data},
 * {@link #header} for each header, {@link #endOfHeaders}, {@link #body} for each chunk, {@link #endOfMessage}. A
 * transaction that ends before its end of message (RSET, a refused DATA, the client going away, an earlier filter's
 * refusal) ends with {@link #abort} instead. {@link #close} ends the session. A filter that answered
 * {@link EventVerdict.Accept} gets no more events of that message (or, at CONNECT or HELO, of the session) except
 * {@link #abort} and {@link #close}; the same after a refusal of the message by anyone.
 *
 * <p>What a filter sees is what the filters before it in the list left: a header another filter replaced reaches
 * later filters replaced. The gateway's own {@code Received:} header is not shown, as Postfix does not show it to
 * milters.
 *
 * @since 1.2
 */
@ConsumerType
public interface FilterSession extends AutoCloseable {
    /** The client connected (for local submission: {@code localhost}, {@code 127.0.0.1}). */
    default EventVerdict connect(ClientInfo client) {
        return EventVerdict.CONTINUE;
    }

    /** HELO or EHLO with this name (accepted by the gateway's own checks). */
    default EventVerdict helo(String name) {
        return EventVerdict.CONTINUE;
    }

    /**
     * The client started TLS (STARTTLS). Information only: it comes before the next event (the client's new EHLO),
     * and a session that needs to refuse a client for its TLS does so at that event.
     */
    default void tls(TlsInfo tls) {
    }

    /**
     * The client authenticated (SMTP AUTH) with {@code mechanism} as {@code username}. Information only, before the
     * next event (usually MAIL FROM).
     */
    default void authenticated(String mechanism, String username) {
    }

    /**
     * MAIL FROM, accepted by the gateway's restrictions. {@code sender} is empty for the null sender; the ESMTP
     * parameters are upper-case keys ({@code SIZE}, {@code BODY}, {@code SMTPUTF8} with an empty value ...).
     */
    default EventVerdict mail(String sender, Map<String, String> parameters) {
        return EventVerdict.CONTINUE;
    }

    /**
     * RCPT TO, accepted by the gateway's restrictions. A {@link EventVerdict.Reject} or {@link EventVerdict.Defer}
     * refuses this recipient only.
     */
    default EventVerdict rcpt(String recipient, Map<String, String> parameters) {
        return EventVerdict.CONTINUE;
    }

    /** DATA (or the first BDAT): the message content follows; {@code queueId} is the ID it will be queued under. */
    default EventVerdict data(String queueId) {
        return EventVerdict.CONTINUE;
    }

    /** One header of the message, as received (or as the filters before this one replaced it). */
    default EventVerdict header(HeaderField header) {
        return EventVerdict.CONTINUE;
    }

    /** The empty line that ends the headers. */
    default EventVerdict endOfHeaders() {
        return EventVerdict.CONTINUE;
    }

    /**
     * The next piece of the body, as it travels on the wire (CRLF line ends, no dot-stuffing): whole lines, at most
     * 64 KiB, except that a longer line comes in several pieces and the last chunk may lack a final line end.
     * Read-only, valid only during the call (copy what you keep). Memory stays one chunk, whatever the message size.
     */
    default EventVerdict body(ByteBuffer chunk) {
        return EventVerdict.CONTINUE;
    }

    /**
     * The end of the message, before it is queued. {@code envelope} holds the accepted recipients; {@code content}
     * is the message as received (with the headers filters added in earlier verdicts), readable as often as needed
     * during this call. Only now can a filter change the envelope or edit headers by index
     * ({@link FilterVerdict.Modify}).
     */
    default FilterVerdict endOfMessage(Envelope envelope, MessageContent content) {
        return FilterVerdict.accept();
    }

    /** The transaction ended without an end of message; the session goes on. */
    default void abort() {
    }

    /** The session is over. Never throws. */
    @Override
    default void close() {
    }
}
