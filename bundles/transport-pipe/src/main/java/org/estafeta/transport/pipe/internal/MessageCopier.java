package org.estafeta.transport.pipe.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Copies a message to a command as Postfix's mail_copy() does: the headers the flags ask for first ({@code F} From_
 * line, {@code R} Return-Path, {@code O} X-Original-To, {@code D} Delivered-To), then every line of the message with
 * its CRLF (or bare LF) replaced by {@code eol}, {@code >} before lines that start with "From " ({@code >} flag),
 * {@code .} before lines that start with a dot ({@code .} flag), and a blank line at the end ({@code B} flag). The
 * message streams through a fixed buffer; it is never held whole. A long line is copied in pieces, and only its
 * first piece is looked at for quoting.
 */
final class MessageCopier {
    /** An I/O error while reading the message (not while writing to the command). */
    static final class ReadException extends IOException {
        private static final long serialVersionUID = 1L;

        ReadException(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);
    private static final byte[] FROM_ = "From ".getBytes(StandardCharsets.US_ASCII);

    private final PipeAttributes attributes;
    private final byte[] eol;
    private final byte[] buf = new byte[65536];
    private InputStream in;
    private int pos;
    private int lim;
    private boolean eof;

    MessageCopier(PipeAttributes attributes) {
        this.attributes = attributes;
        this.eol = attributes.eol().getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * @param sender the envelope sender after the null_sender replacement
     * @param originalRecipient for X-Original-To (none when empty)
     * @param recipient for Delivered-To
     * @param now for the From_ line, in the zone it is shown in
     * @throws ReadException when reading the message fails; other IOExceptions are the command's side
     */
    void copy(InputStream message, OutputStream out, String sender, String originalRecipient, String recipient,
            ZonedDateTime now, boolean originalRecipientEnabled) throws IOException {
        this.in = message;
        if (attributes.has('F')) {
            header(out, "From " + (sender.isEmpty() ? "MAILER-DAEMON" : Addresses.quoteLocal(sender)) + "  "
                    + ASCTIME.format(now));
        }
        if (attributes.has('R')) {
            header(out, "Return-Path: <" + (sender.isEmpty() ? "" : Addresses.quoteLocal(sender)) + ">");
        }
        if (attributes.has('O') && originalRecipientEnabled && !originalRecipient.isEmpty()) {
            header(out, "X-Original-To: " + Addresses.quoteLocal(originalRecipient));
        }
        if (attributes.has('D')) {
            header(out, "Delivered-To: " + Addresses.quoteLocal(recipient));
        }
        boolean quoteFrom = attributes.has('>');
        boolean quoteDot = attributes.has('.');
        boolean lineStart = true;
        while (available(1)) {
            if (lineStart) {
                lineStart = false;
                if (quoteFrom && available(5) && java.util.Arrays.equals(buf, pos, pos + 5, FROM_, 0, 5)) {
                    out.write('>');
                }
                if (quoteDot && buf[pos] == '.') {
                    out.write('.');
                }
            }
            int nl = indexOfNewline();
            if (nl >= 0) {
                int end = nl > pos && buf[nl - 1] == '\r' ? nl - 1 : nl;
                out.write(buf, pos, end - pos);
                out.write(eol);
                pos = nl + 1;
                lineStart = true;
            } else if (buf[lim - 1] == '\r') {
                // hold a trailing CR back until we know whether LF follows it
                out.write(buf, pos, lim - 1 - pos);
                pos = lim - 1;
                if (!available(2)) {
                    out.write('\r');
                    pos++;
                }
            } else {
                out.write(buf, pos, lim - pos);
                pos = lim;
            }
        }
        if (!lineStart) {
            out.write(eol);
        }
        if (attributes.has('B')) {
            out.write(eol);
        }
        out.flush();
    }

    private void header(OutputStream out, String line) throws IOException {
        out.write(line.getBytes(StandardCharsets.UTF_8));
        out.write(eol);
    }

    private int indexOfNewline() {
        for (int i = pos; i < lim; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Whether at least n unread bytes are in the buffer, reading more (and moving the unread ones to the front) if needed. */
    private boolean available(int n) throws ReadException {
        if (lim - pos >= n) {
            return true;
        }
        System.arraycopy(buf, pos, buf, 0, lim - pos);
        lim -= pos;
        pos = 0;
        while (!eof && lim < n) {
            int r;
            try {
                r = in.read(buf, lim, buf.length - lim);
            } catch (IOException e) {
                throw new ReadException(e);
            }
            if (r < 0) {
                eof = true;
            } else {
                lim += r;
            }
        }
        return lim - pos >= n;
    }
}
