package org.estafeta.filter.spamassassin;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.api.message.Header;
import org.estafeta.filter.support.DaemonAddress;
import org.estafeta.filter.support.DaemonConnection;

/**
 * A spamd client for one command, {@code HEADERS} of the SPAMC/1.5 protocol (what {@code spamc} speaks): the message
 * goes out with its {@code Content-length}, and spamd answers with its verdict line
 * ({@code Spam: True ; 1000.0 / 5.0}) and the message's header section as SpamAssassin would rewrite it, from which
 * the {@code X-Spam-*} fields it added are taken. Memory: one copy buffer for the message, and spamd's answer (a
 * header section, at most {@value #MAX_ANSWER} bytes). Every exchange is bounded by its deadline.
 *
 * <p>Thread-safe: each call opens its own connection.
 */
final class Spamd {
    static final int MAX_ANSWER = 1024 * 1024;
    private static final Pattern STATUS = Pattern.compile("SPAMD/(\\d+\\.\\d+) (\\d+) (.*)");
    private static final Pattern SPAM = Pattern.compile(
            "(?i)Spam:\\s*(True|False|Yes|No)\\s*;\\s*(-?[0-9.]+)\\s*/\\s*(-?[0-9.]+)");

    /**
     * spamd's verdict.
     *
     * @param spam whether the score reached spamd's own {@code required_score}
     * @param score the message's score
     * @param required spamd's {@code required_score}
     * @param headers the {@code X-Spam-*} fields SpamAssassin added ({@code X-Spam-Checker-Version},
     *        {@code X-Spam-Flag}, {@code X-Spam-Level}, {@code X-Spam-Status} …), in its order, unfolded
     */
    record Result(boolean spam, double score, double required, List<Header> headers) {
    }

    private final ScheduledExecutorService timer;

    Spamd(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /**
     * Checks a message of {@code length} bytes read from {@code content}. Throws an {@link IOException} naming the
     * address when spamd cannot be reached, runs out of time, or answers with an error.
     *
     * @param user spamd's {@code User} header (whose preferences apply), or empty
     */
    Result headers(DaemonAddress address, Duration timeout, Optional<String> user, InputStream content, long length)
            throws IOException {
        try (DaemonConnection c = DaemonConnection.open(address, timeout, timer)) {
            byte[] answer;
            try {
                OutputStream out = c.output();
                StringBuilder request = new StringBuilder("HEADERS SPAMC/1.5\r\nContent-length: ").append(length)
                        .append("\r\n");
                user.ifPresent(u -> request.append("User: ").append(u).append("\r\n"));
                request.append("\r\n");
                out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
                byte[] buf = new byte[64 * 1024];
                long sent = 0;
                int n;
                while ((n = content.read(buf)) >= 0) {
                    if (sent + n > length) {
                        throw new IOException("message longer than its size " + length);
                    }
                    out.write(buf, 0, n);
                    sent += n;
                }
                if (sent != length) {
                    throw new IOException("message shorter (" + sent + ") than its size " + length);
                }
                out.flush();
                c.shutdownOutput();
                answer = readAll(c.input());
            } catch (IOException e) {
                throw c.failure("spamd " + address, e);
            }
            return parse(address, answer);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(4096);
        byte[] buf = new byte[8192];
        int n;
        try (InputStream bin = new BufferedInputStream(in)) {
            while ((n = bin.read(buf)) >= 0) {
                if (b.size() + n > MAX_ANSWER) {
                    throw new IOException("answer longer than " + MAX_ANSWER + " bytes");
                }
                b.write(buf, 0, n);
            }
        }
        return b.toByteArray();
    }

    /** Parses a HEADERS answer: status line, response headers, empty line, the message's header section. */
    static Result parse(DaemonAddress address, byte[] answer) throws IOException {
        String text = new String(answer, StandardCharsets.UTF_8);
        int end = text.indexOf("\r\n\r\n");
        String head = end < 0 ? text : text.substring(0, end);
        String body = end < 0 ? "" : text.substring(end + 4);
        String[] lines = head.split("\r\n");
        Matcher status = STATUS.matcher(lines[0].strip());
        if (!status.matches()) {
            throw new IOException("spamd " + address + ": unexpected answer: "
                    + (lines[0].isBlank() ? "(none)" : abbreviate(lines[0])));
        }
        if (!status.group(2).equals("0")) {
            throw new IOException("spamd " + address + ": " + status.group(2) + " " + status.group(3).strip());
        }
        Matcher spam = null;
        for (int i = 1; i < lines.length; i++) {
            Matcher m = SPAM.matcher(lines[i]);
            if (m.lookingAt()) {
                spam = m;
            }
        }
        if (spam == null) {
            throw new IOException("spamd " + address + ": no Spam: line in the answer");
        }
        String flag = spam.group(1).toLowerCase(Locale.ROOT);
        double score;
        double required;
        try {
            score = Double.parseDouble(spam.group(2));
            required = Double.parseDouble(spam.group(3));
        } catch (NumberFormatException e) {
            throw new IOException("spamd " + address + ": bad score in " + spam.group(), e);
        }
        return new Result(flag.equals("true") || flag.equals("yes"), score, required, spamHeaders(body));
    }

    /** The X-Spam-* fields of a header section (X-Spam-Prev-* excepted: SpamAssassin's copies of older ones). */
    static List<Header> spamHeaders(String section) {
        List<Header> out = new ArrayList<>();
        String name = null;
        StringBuilder value = null;
        for (String line : (section + "\r\n").split("\r?\n", -1)) {
            if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t') && value != null) {
                value.append(line);
                continue;
            }
            if (name != null) {
                out.add(new Header(name, value.toString().replaceFirst("^[ \t]+", "").stripTrailing()));
            }
            name = null;
            value = null;
            if (line.isEmpty()) {
                break; // the end of the header section
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                String n = line.substring(0, colon).strip();
                String lower = n.toLowerCase(Locale.ROOT);
                if (lower.startsWith("x-spam-") && !lower.startsWith("x-spam-prev-") && n.chars().allMatch(ch -> ch > ' ' && ch <= '~')) {
                    name = n;
                    value = new StringBuilder(line.substring(colon + 1));
                }
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }
}
