package org.estafeta.smtpd;

/** What {@link SmtpLineDecoder} passes to the session: one command line, or the news that a line was too long. */
sealed interface SmtpInput {
    /**
     * A complete line without its record terminator (CRLF, or a bare LF), bytes mapped one to one onto chars
     * (ISO-8859-1) so that nothing the client sent is lost or rejected by decoding.
     */
    record Line(String text) implements SmtpInput {
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
}
