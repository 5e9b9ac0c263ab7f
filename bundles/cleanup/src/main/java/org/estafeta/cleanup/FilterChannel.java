package org.estafeta.cleanup;

import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Reply;

/**
 * The content filters' view of one SMTP session (docs/content-filters.md): smtpd reports each command the moment its
 * own restrictions accepted it, so that a filter's refusal is answered at that command, as Postfix answers a milter's;
 * the message content then reaches the same filters through {@link Cleanup#open(Submission,
 * org.estafeta.config.ConfigSnapshot, FilterChannel)}. Got from {@link Cleanup#filters}.
 *
 * <p><b>Threading and blocking:</b> the event methods block while the filters answer (each filter at most
 * {@code estafeta_content_filter_timeout}) and must be called on a worker thread, one at a time, in the session's
 * order. {@link #reset} never blocks and may be called on the event loop. {@link #close} blocks briefly (filters say
 * goodbye to their peers) and belongs on a worker thread.
 *
 * @since 1.5
 */
public interface FilterChannel extends AutoCloseable {
    /**
     * A filter refused: the reply for the client, and the filter's name for the log.
     *
     * @param sessionWide true when the refusal holds for the rest of the session (a refusal at CONNECT or HELO):
     *        every later MAIL gets it (the channel answers so); smtpd answers CONNECT and HELO as Postfix does after a
     *        milter's refusal (a 554 greeting for a 5xx at CONNECT, 250 at HELO, a 421 closes)
     */
    record Refusal(Reply reply, String filter, boolean sessionWide) {
    }

    /** The client connected (before the greeting). */
    Optional<Refusal> connect(ClientInfo client);

    /** HELO or EHLO, accepted by smtpd. */
    Optional<Refusal> helo(String name);

    /** MAIL FROM, accepted by smtpd's restrictions: a refusal refuses the transaction. */
    Optional<Refusal> mail(String sender, Map<String, String> parameters);

    /** RCPT TO, accepted by smtpd's restrictions: a refusal refuses this recipient. */
    Optional<Refusal> rcpt(String recipient, Map<String, String> parameters);

    /** The client started TLS: the filters hear of it before the next event. Never blocks. */
    default void tls(org.estafeta.api.filter.TlsInfo tls) {
    }

    /** The client authenticated: the filters hear of it before the next event. Never blocks. */
    default void authenticated(String mechanism, String username) {
    }

    /** The transaction ended without a message (RSET, a refused command, the end of the session). Never blocks. */
    void reset();

    /** The session is over. Never throws. */
    @Override
    void close();
}
