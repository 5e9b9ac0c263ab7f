package org.estafeta.transport.local.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

import org.estafeta.api.message.MessageContent;

/**
 * Writes a message as Postfix's mail_copy() does for local delivery: the envelope headers first ({@code From_}
 * line for mbox files and commands, {@code Return-Path}, {@code X-Original-To}, {@code Delivered-To}), then every
 * line of the message with its CRLF made LF, with {@code >} before lines that start with "From " (mbox only), and
 * for mbox a blank line at the end so the next {@code From_} line is found. The message streams through; it is never
 * held whole.
 *
 * @param sender the envelope sender, empty for the null sender
 * @param originalRecipient the recipient as the queue manager gave it ({@code X-Original-To}); none when empty
 * @param deliveredTo the final recipient ({@code Delivered-To}); none when empty
 * @param now for the {@code From_} line
 */
record MessageCopy(String sender, String originalRecipient, String deliveredTo, ZonedDateTime now) {
    private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);
    private static final byte[] ROM_ = "rom ".getBytes(StandardCharsets.US_ASCII);

    /** What to add around the message. */
    enum Style {
        /** an mbox file: From_ line, >From quoting, blank line at the end */
        MBOX(true, true, true),
        /** a Maildir file: the headers and the message only */
        MAILDIR(false, false, false),
        /** the input of a command: From_ line, no quoting */
        COMMAND(true, false, false);

        final boolean fromLine;
        final boolean quote;
        final boolean blank;

        Style(boolean fromLine, boolean quote, boolean blank) {
            this.fromLine = fromLine;
            this.quote = quote;
            this.blank = blank;
        }
    }

    /** The {@code From_} line of an mbox, without its newline. */
    String fromLine() {
        return "From " + (sender.isEmpty() ? "MAILER-DAEMON" : sender) + "  " + ASCTIME.format(now);
    }

    /** Writes the message to {@code out} (flushed, not closed); reading errors are {@link ReadException}s. */
    void write(MessageContent content, OutputStream out, Style style) throws IOException {
        StringBuilder head = new StringBuilder();
        if (style.fromLine) {
            head.append(fromLine()).append('\n');
        }
        head.append("Return-Path: <").append(sender).append(">\n");
        if (!originalRecipient.isEmpty()) {
            head.append("X-Original-To: ").append(originalRecipient).append('\n');
        }
        if (!deliveredTo.isEmpty()) {
            head.append("Delivered-To: ").append(deliveredTo.toLowerCase(Locale.ROOT)).append('\n');
        }
        out.write(head.toString().getBytes(StandardCharsets.UTF_8));
        InputStream raw;
        try {
            raw = content.openMessage();
        } catch (IOException e) {
            throw new ReadException(e);
        }
        try (BufferedInputStream in = new BufferedInputStream(raw, 65536)) {
            boolean lineStart = true;
            for (int c; (c = read(in)) >= 0;) {
                if (c == '\r') {
                    in.mark(1);
                    if (read(in) == '\n') {
                        out.write('\n');
                        lineStart = true;
                        continue;
                    }
                    in.reset();
                } else if (c == 'F' && lineStart && style.quote) {
                    in.mark(4);
                    byte[] next = readN(in, 4);
                    in.reset();
                    if (java.util.Arrays.equals(next, ROM_)) {
                        out.write('>');
                    }
                }
                out.write(c);
                lineStart = c == '\n';
            }
            if (!lineStart) {
                out.write('\n');
            }
        }
        if (style.blank) {
            out.write('\n');
        }
        out.flush();
    }

    private static int read(InputStream in) throws ReadException {
        try {
            return in.read();
        } catch (IOException e) {
            throw new ReadException(e);
        }
    }

    private static byte[] readN(InputStream in, int n) throws ReadException {
        try {
            return in.readNBytes(n);
        } catch (IOException e) {
            throw new ReadException(e);
        }
    }

    /** An I/O error while reading the queued message (not while writing the mailbox): the delivery is deferred. */
    static final class ReadException extends IOException {
        private static final long serialVersionUID = 1L;

        ReadException(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }
}
