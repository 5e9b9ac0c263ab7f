package org.estafeta.queue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Encoding and decoding of queue files; docs/queue-file-format.md is the specification. A file is a header of
 * envelope lines, the line {@code content}, the message bytes as received, in version 2 an extracted segment (the
 * line {@code extracted} and the records cleanup decided while reading the content), and a fixed-size commit trailer
 * {@code END <20-digit content length> <8-hex CRC-32C of the content>\n} written last. Readers accept both versions.
 */
public final class QueueFileFormat {
    /** The first line of a version 1 file (no extracted segment); files without extracted records are still written so. */
    public static final String MAGIC = "ESTAFETA-QUEUE 1";
    /** The first line of a version 2 file: an extracted segment follows the content. */
    public static final String MAGIC_V2 = "ESTAFETA-QUEUE 2";
    /** Offset of the version digit, raised from 1 to 2 in place when an extracted segment is written. */
    public static final int VERSION_OFFSET = MAGIC.length() - 1;
    public static final String CONTENT = "content";
    /** The first line of the extracted segment. */
    public static final String EXTRACTED = "extracted";
    /** The most an extracted segment may hold (a corrupt file must not make a reader allocate without bound). */
    public static final int MAX_EXTRACTED = 16 << 20;
    /** Length of the commit trailer. */
    public static final int TRAILER_LENGTH = 34;
    static final int MAX_LINE = 1 << 20;

    private QueueFileFormat() {
    }

    /** The envelope lines up to and including {@code content\n}. */
    public static byte[] header(Envelope e) {
        StringBuilder sb = new StringBuilder(256);
        sb.append(MAGIC).append('\n');
        sb.append("time ").append(e.arrivalMicros()).append('\n');
        sb.append("sender ").append(xtext(e.sender())).append('\n');
        e.mailParameters().forEach((k, v) -> sb.append("param ").append(xtext(k)).append(' ').append(xtext(v)).append('\n'));
        sb.append("client_address ").append(xtext(e.client().address())).append('\n');
        sb.append("client_name ").append(xtext(e.client().name())).append('\n');
        sb.append("helo_name ").append(xtext(e.client().helo())).append('\n');
        sb.append("protocol ").append(xtext(e.client().protocol())).append('\n');
        records(sb, e.actions(), e.recipients());
        sb.append(CONTENT).append('\n');
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void records(StringBuilder sb, List<Envelope.Action> actions, List<Envelope.Recipient> rcpts) {
        for (Envelope.Action a : actions) {
            sb.append("action ").append(a.name()).append(' ').append(xtext(a.value())).append('\n');
        }
        for (Envelope.Recipient r : rcpts) {
            sb.append("rcpt ").append(r.status().code).append(' ').append(xtext(r.address())).append(' ')
                    .append(xtext(String.join(",", r.notifyOn()))).append(' ')
                    .append(r.originalRecipient().map(QueueFileFormat::xtext).orElse("")).append('\n');
        }
    }

    /** The extracted segment of a version 2 file: {@code extracted\n}, then its action and rcpt lines. */
    public static byte[] extracted(Envelope.Extracted x) {
        StringBuilder sb = new StringBuilder(64);
        sb.append(EXTRACTED).append('\n');
        records(sb, x.actions(), x.recipients());
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Parses an extracted segment (all bytes between the content and the trailer); throws when it is not exactly the
     * line {@code extracted} followed by complete {@code action} and {@code rcpt} lines.
     */
    public static Envelope.Extracted parseExtracted(byte[] segment) throws IOException {
        String s = new String(segment, StandardCharsets.US_ASCII);
        if (!s.endsWith("\n")) {
            throw new IOException("extracted segment does not end with a line end");
        }
        String[] lines = s.substring(0, s.length() - 1).split("\n", -1);
        if (!lines[0].equals(EXTRACTED)) {
            throw new IOException("no extracted segment after the content");
        }
        List<Envelope.Action> actions = new ArrayList<>();
        List<Envelope.Recipient> rcpts = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            String[] f = line.split(" ", -1);
            try {
                switch (f[0]) {
                    case "action" -> actions.add(action(f));
                    case "rcpt" -> rcpts.add(recipient(f));
                    default -> throw new IOException("unknown extracted record");
                }
            } catch (RuntimeException e) {
                throw new IOException("bad extracted line: " + line + ": " + e.getMessage(), e);
            } catch (IOException e) {
                throw new IOException(e.getMessage() + ": " + line, e);
            }
        }
        return new Envelope.Extracted(actions, rcpts);
    }

    private static Envelope.Action action(String[] f) throws IOException {
        if (f.length != 3) {
            throw new IOException("bad action line");
        }
        return new Envelope.Action(f[1], unxtext(f[2]));
    }

    private static Envelope.Recipient recipient(String[] f) throws IOException {
        if (f.length != 5 || f[1].length() != 1) {
            throw new IOException("bad recipient line");
        }
        String notify = unxtext(f[3]);
        return new Envelope.Recipient(unxtext(f[2]), notify.isEmpty() ? List.of() : List.of(notify.split(",")),
                f[4].isEmpty() ? Optional.empty() : Optional.of(unxtext(f[4])), Envelope.Status.of(f[1].charAt(0)));
    }

    /** The commit trailer for content of {@code length} bytes with CRC-32C {@code crc}. */
    public static byte[] trailer(long length, long crc) {
        byte[] t = String.format("END %020d %08x\n", length, crc & 0xffffffffL).getBytes(StandardCharsets.US_ASCII);
        assert t.length == TRAILER_LENGTH;
        return t;
    }

    /** Parses a trailer; empty when {@code t} is not one (the file was never committed). */
    public static Optional<long[]> parseTrailer(byte[] t) {
        if (t.length != TRAILER_LENGTH) {
            return Optional.empty();
        }
        String s = new String(t, StandardCharsets.US_ASCII);
        if (!s.matches("END [0-9]{20} [0-9a-f]{8}\n")) {
            return Optional.empty();
        }
        return Optional.of(new long[] {Long.parseLong(s.substring(4, 24)), Long.parseLong(s.substring(25, 33), 16)});
    }

    /**
     * The envelope read from {@code in}, left positioned at the first content byte; the count of bytes read is in
     * {@code consumed[0]}, and when {@code consumed} has room the format version (1 or 2) in {@code consumed[1]}.
     */
    public static Envelope readHeader(InputStream in, long[] consumed) throws IOException {
        List<String> lines = new ArrayList<>();
        long n = 0;
        while (true) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) != '\n') {
                if (c < 0) {
                    throw new IOException("queue file ends inside the envelope");
                }
                if (line.size() >= MAX_LINE) {
                    throw new IOException("envelope line too long");
                }
                line.write(c);
            }
            n += line.size() + 1;
            String s = line.toString(StandardCharsets.US_ASCII);
            if (lines.isEmpty() && !s.equals(MAGIC) && !s.equals(MAGIC_V2)) {
                throw new IOException("not a queue file (no " + MAGIC + " or " + MAGIC_V2 + " line)");
            }
            if (s.equals(CONTENT)) {
                break;
            }
            lines.add(s);
        }
        consumed[0] = n;
        if (consumed.length > 1) {
            consumed[1] = lines.get(0).equals(MAGIC_V2) ? 2 : 1;
        }
        return parse(lines.subList(1, lines.size()));
    }

    private static Envelope parse(List<String> lines) throws IOException {
        Long time = null;
        String sender = null;
        Map<String, String> params = new LinkedHashMap<>();
        String[] client = new String[4];
        List<Envelope.Action> actions = new ArrayList<>();
        List<Envelope.Recipient> rcpts = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split(" ", -1);
            try {
                switch (f[0]) {
                    case "time" -> time = Long.parseLong(one(f));
                    case "sender" -> sender = unxtext(one(f));
                    case "param" -> params.put(unxtext(f[1]), unxtext(f[2]));
                    case "client_address" -> client[0] = unxtext(one(f));
                    case "client_name" -> client[1] = unxtext(one(f));
                    case "helo_name" -> client[2] = unxtext(one(f));
                    case "protocol" -> client[3] = unxtext(one(f));
                    case "action" -> actions.add(action(f));
                    case "rcpt" -> rcpts.add(recipient(f));
                    default -> throw new IOException("unknown envelope record");
                }
            } catch (RuntimeException e) {
                throw new IOException("bad envelope line: " + line + ": " + e.getMessage(), e);
            } catch (IOException e) {
                throw new IOException(e.getMessage() + ": " + line, e);
            }
        }
        if (time == null || sender == null || rcpts.isEmpty() || java.util.Arrays.asList(client).contains(null)) {
            throw new IOException("incomplete envelope");
        }
        return new Envelope(time, sender, params, rcpts, new Envelope.Client(client[0], client[1], client[2], client[3]),
                actions);
    }

    private static String one(String[] f) throws IOException {
        if (f.length != 2) {
            throw new IOException("expected one value");
        }
        return f[1];
    }

    /** RFC 3461 xtext of the UTF-8 bytes: {@code !}..{@code ~} except {@code +} and {@code =} as is, others as {@code +XX}. */
    public static String xtext(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= '!' && c <= '~' && c != '+' && c != '=') {
                sb.append((char) c);
            } else {
                sb.append('+').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return sb.toString();
    }

    public static String unxtext(String s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '+') {
                if (i + 2 >= s.length()) {
                    throw new IOException("truncated xtext");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IOException("bad xtext");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if (c < '!' || c > '~' || c == '=') {
                throw new IOException("bad xtext");
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
