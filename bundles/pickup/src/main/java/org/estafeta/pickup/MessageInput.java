package org.estafeta.pickup;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The message on sendmail's standard input, read as Postfix's sendmail reads it: lines of at most
 * {@value #LINE_LIMIT} bytes (longer ones go on in pieces), a leading {@code From } line dropped, carriage returns
 * before the line end removed and every line ended with CRLF (sendmail_fix_line_endings = always), and, unless
 * {@code -i}, a line with a lone dot ends the message. The header section is read first and kept (it is bounded);
 * {@code Bcc:} and {@code Resent-Bcc:} are removed from it (Postfix's message_drop_headers) and, for {@code -t},
 * the recipients are taken from To, Cc and Bcc, or from Resent-To, Resent-Cc and Resent-Bcc when there are any.
 * The body is then copied in pieces, never held whole.
 */
public final class MessageInput {
    /** Postfix's line_length_limit. */
    public static final int LINE_LIMIT = 2048;

    private final InputStream in;
    private final boolean dotEnds;
    private final int headerLimit;
    private final byte[] buf = new byte[64 * 1024];
    private int pos;
    private int end;
    private boolean eof;
    /** Whether the previous piece ended its line (a lone dot counts only at the start of a line). */
    private boolean atLineStart = true;
    private boolean ended;
    /** A line read while looking for the end of the headers that belongs to the body. */
    private byte[] pendingBody;

    /** The header section as it goes to the queue, and the recipients found in it. */
    public record Header(byte[] bytes, List<String> recipients, List<String> resentRecipients, boolean truncated) {
        /** The recipients {@code -t} takes: the Resent- ones when there are any. */
        public List<String> extracted() {
            return resentRecipients.isEmpty() ? recipients : resentRecipients;
        }
    }

    public MessageInput(InputStream in, boolean dotEnds, int headerLimit) {
        this.in = in;
        this.dotEnds = dotEnds;
        this.headerLimit = headerLimit;
    }

    /** Reads the header section (up to and including the empty line that ends it). Call once, first. */
    public Header readHeader() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> rcpts = new ArrayList<>();
        List<String> resent = new ArrayList<>();
        StringBuilder field = null; // the current header field, unfolded
        boolean dropping = false;
        boolean first = true;
        boolean truncated = false;
        byte[] line;
        while ((line = nextLine()) != null) {
            int len = line.length;
            if (len < 2 || line[len - 2] != '\r' || line[len - 1] != '\n' || out.size() + len > headerLimit) {
                truncated = true; // an over-long header section: the rest is body, as cleanup treats it
                pendingBody = line;
                break;
            }
            String text = new String(line, 0, line.length - 2, StandardCharsets.ISO_8859_1);
            if (first) {
                first = false;
                if (text.replaceFirst("^>*", "").startsWith("From ")) {
                    continue;
                }
            }
            boolean continuation = !text.isEmpty() && (text.charAt(0) == ' ' || text.charAt(0) == '\t');
            if (continuation && field != null) {
                field.append(text);
                if (!dropping) {
                    out.write(line);
                }
                continue;
            }
            collect(field, rcpts, resent);
            field = null;
            dropping = false;
            int colon = headerName(text);
            if (colon < 0) {
                if (!text.isEmpty()) {
                    pendingBody = line; // not a header: the body starts here
                } else {
                    out.write(line);
                }
                break;
            }
            field = new StringBuilder(text);
            String name = text.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            dropping = name.equals("bcc") || name.equals("resent-bcc");
            if (!dropping) {
                out.write(line);
            }
        }
        collect(field, rcpts, resent);
        return new Header(out.toByteArray(), rcpts, resent, truncated);
    }

    private static void collect(StringBuilder field, List<String> rcpts, List<String> resent) {
        if (field == null) {
            return;
        }
        String f = field.toString();
        int colon = f.indexOf(':');
        String name = f.substring(0, colon).strip().toLowerCase(Locale.ROOT);
        List<String> to = switch (name) {
            case "to", "cc", "bcc" -> rcpts;
            case "resent-to", "resent-cc", "resent-bcc" -> resent;
            default -> null;
        };
        if (to != null) {
            for (String a : Addresses.parse(f.substring(colon + 1))) {
                if (!a.isEmpty()) {
                    to.add(a);
                }
            }
        }
    }

    /** Postfix's is_header(): the index of the colon after a field name, or -1. */
    static int headerName(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) > ' ' && line.charAt(i) < 127 && line.charAt(i) != ':') {
            i++;
        }
        if (i == 0) {
            return -1;
        }
        while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
            i++;
        }
        return i < line.length() && line.charAt(i) == ':' ? i : -1;
    }

    /** Copies the rest of the message (after {@link #readHeader}) to {@code out}, converted. */
    public void copyBody(OutputStream out) throws IOException {
        if (pendingBody != null) {
            out.write(pendingBody);
            pendingBody = null;
        }
        byte[] piece = new byte[LINE_LIMIT + 2];
        int n;
        while ((n = nextPiece(piece)) >= 0) {
            out.write(piece, 0, n);
        }
    }

    /** A whole line with CRLF (pieces of an over-long line joined, bounded by the header limit); null at the end. */
    private byte[] nextLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] piece = new byte[LINE_LIMIT + 2];
        int n;
        while ((n = nextPiece(piece)) >= 0) {
            line.write(piece, 0, n);
            if (atLineStart || line.size() > headerLimit) {
                break;
            }
        }
        return line.size() == 0 ? null : line.toByteArray();
    }

    /**
     * The next piece of input converted into {@code piece}: a complete line with CRLF, or up to
     * {@value #LINE_LIMIT} bytes of a longer one. Returns its length, or -1 at the end of the message.
     */
    private int nextPiece(byte[] piece) throws IOException {
        if (ended) {
            return -1;
        }
        int n = 0;
        boolean complete = false;
        while (n < LINE_LIMIT) {
            if (pos == end && !fill()) {
                break;
            }
            byte b = buf[pos++];
            if (b == '\n') {
                complete = true;
                break;
            }
            piece[n++] = b;
        }
        if (n == 0 && !complete) {
            ended = true;
            return -1;
        }
        if (complete || pos == end && eof) {
            complete = true;
            while (n > 0 && piece[n - 1] == '\r') {
                n--;
            }
            if (dotEnds && atLineStart && n == 1 && piece[0] == '.') {
                ended = true;
                return -1;
            }
            piece[n++] = '\r';
            piece[n++] = '\n';
        }
        atLineStart = complete;
        return n;
    }

    private boolean fill() throws IOException {
        if (eof) {
            return false;
        }
        int r = in.read(buf, 0, buf.length);
        if (r <= 0) {
            eof = r < 0;
            return !eof && fill();
        }
        pos = 0;
        end = r;
        return true;
    }
}
