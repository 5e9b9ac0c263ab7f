package org.estafeta.cleanup;

import java.io.IOException;

/**
 * Postfix's cleanup daemon as a service: one {@link Stream} per message. The queue issue implements it; until a
 * Cleanup service is registered, smtpd answers DATA and BDAT with {@code 451 4.3.0 Error: queue file write error}
 * (Postfix's reply when its cleanup service is unavailable), so no client ever believes a message was queued.
 *
 * <p><b>Threading and blocking:</b> every method may block on disk I/O and is called on a worker thread, never on
 * a network event loop. One stream is used by one thread at a time, in order.
 */
public interface Cleanup {
    /**
     * Starts a message. {@code envelope} is final: recipients are not added later.
     *
     * @throws IOException when no queue file can be created (disk full, queue directory missing), or when the
     *         envelope's address rewriting fails (a table lookup failure, a virtual alias loop or limit); nothing is
     *         queued and smtpd answers 451
     */
    Stream open(Submission envelope) throws IOException;

    /**
     * Starts a message received by one master.cf service: as {@link #open(Submission)}, except that the parameters a
     * service may override for its own mail ({@code estafeta_content_filters}, {@code estafeta_content_filter_*} and
     * the filters' own parameters, docs/content-filters.md) come from {@code service}, that service's snapshot
     * ({@code ConfigSnapshot.forService}), so that for example a reinjection listener's
     * {@code -o estafeta_content_filters=} turns the filters off for it. Everything else cleanup does follows main.cf,
     * as Postfix's cleanup does.
     *
     * @since 1.3
     */
    default Stream open(Submission envelope, org.estafeta.config.ConfigSnapshot service) throws IOException {
        return open(envelope);
    }

    /**
     * Starts a message the mail system makes itself (a bounce, a delay notice, a postmaster notice): as
     * {@link #open(Submission)} without the content filters, as Postfix leaves internal mail alone while
     * {@code internal_mail_filter_classes} is empty (its default).
     *
     * @since 1.4
     */
    default Stream openInternal(Submission envelope) throws IOException {
        return open(envelope);
    }

    /**
     * The content filters that follow the SMTP sessions of one master.cf service (its snapshot, as for
     * {@link #open(Submission, org.estafeta.config.ConfigSnapshot)}), or empty when the service has none. smtpd opens
     * one per session and hands it to {@link #open(Submission, org.estafeta.config.ConfigSnapshot, FilterChannel)}.
     *
     * @since 1.5
     */
    default java.util.Optional<FilterChannel> filters(org.estafeta.config.ConfigSnapshot service) {
        return java.util.Optional.empty();
    }

    /**
     * As {@link #open(Submission, org.estafeta.config.ConfigSnapshot)}, for a message whose session's commands the
     * filters of {@code filters} (from {@link #filters}) have already seen: the content goes to the same filter
     * sessions, and the transaction's refusals, holds and discards decided at MAIL and RCPT apply.
     *
     * @since 1.5
     */
    default Stream open(Submission envelope, org.estafeta.config.ConfigSnapshot service, FilterChannel filters)
            throws IOException {
        return open(envelope, service);
    }

    /** The message of one submission, written as it arrives. */
    interface Stream {
        /**
         * Appends message bytes as they travel on the wire after dot-unstuffing (CRLF line ends), headers first.
         * Called as the data arrives, never with the whole message at once.
         */
        void write(byte[] data, int offset, int length) throws IOException;

        /**
         * Ends the message and makes it durable. Returns the queue ID only once the queue file and its directory
         * entry are on disk; smtpd sends {@code 250 2.0.0 Ok: queued as ID} after this returns and never before.
         *
         * @throws IOException when the message cannot be made durable; nothing is left half-queued and smtpd
         *         answers 451
         * @throws Rejected when cleanup refuses the content (header or body checks, a content filter's Reject or Defer,
         *         or {@code 451 4.3.0} when a filter is missing or failed); smtpd sends the reply. A content filter
         *         runs inside this call, so it may block for up to {@code estafeta_content_filter_timeout} per filter
         */
        String commit() throws IOException, Rejected;

        /** Throws the message away (client went away, size limit exceeded, RSET). Never throws. */
        void abort();
    }

    /**
     * A content filter refused the message as it was opened (its answer to the DATA event, or a refusal of the whole
     * session): {@link #open(Submission, org.estafeta.config.ConfigSnapshot, FilterChannel)} throws it, nothing is
     * queued, and smtpd answers DATA with {@link #reply()} instead of 354, as Postfix answers a milter's DATA reply.
     *
     * @since 1.5
     */
    final class RefusedAtOpen extends IOException {
        private static final long serialVersionUID = 1L;
        private final org.estafeta.api.message.Reply reply;

        public RefusedAtOpen(org.estafeta.api.message.Reply reply) {
            super(reply.toString());
            this.reply = reply;
        }

        public org.estafeta.api.message.Reply reply() {
            return reply;
        }
    }

    /** Cleanup refused the message with a reply for the client (for example {@code 550 5.7.1 Message content rejected}). */
    final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;
        private final org.estafeta.api.message.Reply reply;

        public Rejected(org.estafeta.api.message.Reply reply) {
            super(reply.toString());
            this.reply = reply;
        }

        public org.estafeta.api.message.Reply reply() {
            return reply;
        }
    }
}
