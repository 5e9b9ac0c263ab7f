package org.estafeta.cleanup.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.apache.james.mime4j.stream.ParserCursor;
import org.apache.james.mime4j.stream.RawFieldParser;
import org.apache.james.mime4j.util.ByteArrayBuffer;

/**
 * The addresses of one message header (an RFC 5322 address list: mailboxes, {@code Name <addr>}, groups,
 * comments) found where they stand in the header's bytes, so that a rewritten address replaces exactly its own
 * bytes: display names, comments, quoting and folding stay as they were, and a header whose addresses all stay the
 * same goes out byte for byte. Comments and quoted strings are skipped with mime4j's {@link RawFieldParser}.
 *
 * <p>Which headers hold addresses, and of which class, is Postfix's header_opts table: sender headers
 * ({@code From}, {@code Sender}, {@code Reply-To}, {@code Errors-To} ...) and recipient headers ({@code To},
 * {@code Cc}, {@code Bcc}, {@code Resent-To} ...).
 */
final class HeaderAddresses {
    private static final Set<String> SENDER = Set.of("disposition-notification-to", "errors-to", "from",
            "mail-followup-to", "reply-to", "resent-from", "resent-sender", "return-path", "return-receipt-to",
            "sender");
    private static final Set<String> RECIPIENT = Set.of("apparently-to", "bcc", "cc", "resent-bcc", "resent-cc",
            "resent-reply-to", "resent-to", "to");
    private static final RawFieldParser PARSER = RawFieldParser.DEFAULT;

    /** Rewrites one address (internal form); throws when a table fails. */
    interface Rewrite {
        String apply(boolean senderHeader, String address) throws IOException;
    }

    /** An address in the header: bytes {@code [start, end)}, its text as written. */
    record Found(int start, int end, String text) {
    }

    private HeaderAddresses() {
    }

    /**
     * The header with its addresses rewritten, or {@code raw} itself (the same array) when it holds no addresses of
     * a rewritten class or none of them changed.
     *
     * @param raw one header field as received, folded lines and final line end included
     */
    static byte[] rewrite(String name, byte[] raw, Rewrite rewrite) throws IOException {
        String n = name.toLowerCase(Locale.ROOT);
        boolean sender = SENDER.contains(n);
        if (!sender && !RECIPIENT.contains(n)) {
            return raw;
        }
        int colon = 0;
        while (colon < raw.length && raw[colon] != ':') {
            colon++;
        }
        ByteArrayOutputStream out = null;
        int copied = 0;
        for (Found f : addresses(raw, colon + 1, raw.length)) {
            String old = AddressRewriter.internal(f.text());
            String now = rewrite.apply(sender, old);
            if (now.equals(old)) {
                continue;
            }
            if (out == null) {
                out = new ByteArrayOutputStream(raw.length + 64);
            }
            out.write(raw, copied, f.start() - copied);
            out.writeBytes(AddressRewriter.external(now).getBytes(StandardCharsets.UTF_8));
            copied = f.end();
        }
        if (out == null) {
            return raw;
        }
        out.write(raw, copied, raw.length - copied);
        return out.toByteArray();
    }

    /** The addresses in {@code b[from, to)}: angle-bracketed ones, and bare addr-specs (a single word). */
    static List<Found> addresses(byte[] b, int from, int to) {
        ByteArrayBuffer buf = new ByteArrayBuffer(b, to, true);
        ParserCursor cursor = new ParserCursor(from, to);
        List<Found> out = new ArrayList<>();
        int start = -1;
        int end = -1;
        boolean angle = false;
        boolean gap = false;
        boolean phrase = false;
        int pos = from;
        while (pos < to) {
            byte c = b[pos];
            if (c == '(') {
                cursor.updatePos(pos);
                PARSER.skipComment(buf, cursor);
                pos = Math.max(cursor.getPos(), pos + 1);
                gap = start >= 0;
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                pos++;
                gap = start >= 0;
            } else if (c == ',' || c == ';' || c == ':') {
                // the end of a mailbox; a ':' ends a group's name, which is no address
                if (c != ':' && !angle && start >= 0 && !phrase) {
                    out.add(new Found(start, end, new String(b, start, end - start, StandardCharsets.UTF_8)));
                }
                start = -1;
                angle = gap = phrase = false;
                pos++;
            } else if (c == '<') {
                int close = angleEnd(b, pos + 1, to, buf, cursor);
                if (close < 0) {
                    return out; // unbalanced: leave the rest alone
                }
                Found f = inside(b, pos + 1, close);
                if (f != null) {
                    out.add(f);
                }
                angle = true;
                pos = close + 1;
            } else if (c == '>' || c == ')') {
                phrase = true; // stray: not an address we can read
                pos++;
            } else {
                int token = pos;
                if (c == '"') {
                    cursor.updatePos(pos);
                    PARSER.copyQuotedContent(buf, cursor, new StringBuilder());
                    pos = Math.max(cursor.getPos(), pos + 1);
                } else {
                    while (pos < to && !special(b[pos])) {
                        pos++;
                    }
                }
                if (start < 0) {
                    start = token;
                } else if (gap) {
                    phrase = true; // several words: a display name without angle brackets, or junk
                }
                end = pos;
                gap = false;
            }
        }
        if (!angle && start >= 0 && !phrase) {
            out.add(new Found(start, end, new String(b, start, end - start, StandardCharsets.UTF_8)));
        }
        return out;
    }

    private static boolean special(byte c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(' || c == ')' || c == '<' || c == '>'
                || c == ',' || c == ';' || c == ':' || c == '"';
    }

    /** The index of the {@code >} that closes an angle address starting at {@code pos}, or -1. */
    private static int angleEnd(byte[] b, int pos, int to, ByteArrayBuffer buf, ParserCursor cursor) {
        while (pos < to) {
            if (b[pos] == '"') {
                cursor.updatePos(pos);
                PARSER.copyQuotedContent(buf, cursor, new StringBuilder());
                pos = Math.max(cursor.getPos(), pos + 1);
            } else if (b[pos] == '>') {
                return pos;
            } else {
                pos++;
            }
        }
        return -1;
    }

    /** The address between angle brackets, without white space and source route; null for {@code <>}. */
    private static Found inside(byte[] b, int start, int end) {
        while (start < end && (b[start] == ' ' || b[start] == '\t' || b[start] == '\r' || b[start] == '\n')) {
            start++;
        }
        while (end > start && (b[end - 1] == ' ' || b[end - 1] == '\t' || b[end - 1] == '\r' || b[end - 1] == '\n')) {
            end--;
        }
        if (start < end && b[start] == '@') {
            int colon = start;
            while (colon < end && b[colon] != ':') {
                colon++;
            }
            if (colon < end) {
                start = colon + 1;
            }
        }
        return start < end ? new Found(start, end, new String(b, start, end - start, StandardCharsets.UTF_8)) : null;
    }
}
