package org.estafeta.smtpd;

/** What {@link SmtpLineDecoder} passes to the session. */
sealed interface SmtpInput {
    /**
     * A complete command line without its record terminator, bytes mapped one to one onto chars (ISO-8859-1) so
     * that nothing the client sent is lost or rejected by decoding.
     *
     * @param text the line
     * @param bareLf the line ended with a bare LF (only detected when {@code smtpd_forbid_bare_newline} is on for
     *        this client)
     */
    record Line(String text, boolean bareLf) implements SmtpInput {
        Line(String text) {
            this(text, false);
        }
    }

    /**
     * A line that did not fit in {@code line_length_limit}. Its bytes were skipped up to and including the
     * terminator, so the session stays in step with the client; only its start is kept, for the log.
     *
     * @param start the first bytes of the line (at most {@link SmtpLineDecoder#KEPT_PREFIX})
     * @param length the number of bytes before the terminator
     */
    record OverlongLine(String start, long length) implements SmtpInput {
    }

    /** Message content after dot-unstuffing and line-end normalization (CRLF), in arrival order. */
    record Content(byte[] bytes) implements SmtpInput {
    }

    /**
     * The end of DATA content ({@code CRLF.CRLF}) or of one BDAT chunk. The decoder pauses after it, until the
     * session resumes it.
     *
     * @param bareLf some content line ended with a bare LF (detected only when the client is not excluded)
     * @param size the message bytes counted so far (Postfix's act_size: each line plus 2)
     * @param sizeExceeded content beyond {@code message_size_limit} was dropped
     */
    record ContentEnd(boolean bareLf, long size, boolean sizeExceeded) implements SmtpInput {
    }
}
