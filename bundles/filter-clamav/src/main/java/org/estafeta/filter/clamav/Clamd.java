package org.estafeta.filter.clamav;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

import org.estafeta.filter.support.DaemonAddress;
import org.estafeta.filter.support.DaemonConnection;

/**
 * A clamd client for one command: {@code zINSTREAM} (the message in chunks of at most {@value #CHUNK} bytes, each
 * with its 4-byte big-endian length, then a zero length) and clamd's one-line answer. Memory is one chunk, whatever
 * the message size. Every exchange is bounded by its deadline ({@link DaemonConnection}).
 *
 * <p>Thread-safe: each call opens its own connection.
 */
final class Clamd {
    static final int CHUNK = 64 * 1024;
    /** The longest answer read; clamd's are one short line. */
    static final int MAX_ANSWER = 4096;

    /** clamd's answer to a scan. */
    sealed interface Result {
        /** {@code stream: OK} */
        record Clean() implements Result {
        }

        /** {@code stream: NAME FOUND} */
        record Infected(String name) implements Result {
        }
    }

    private final ScheduledExecutorService timer;

    Clamd(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /**
     * Scans {@code content} with INSTREAM. Throws an {@link IOException} naming the address when clamd cannot be
     * reached, runs out of time, or answers with an error (for example {@code INSTREAM size limit exceeded. ERROR}
     * when the message is longer than its {@code StreamMaxLength}).
     */
    Result scan(DaemonAddress address, Duration timeout, InputStream content) throws IOException {
        try (DaemonConnection c = DaemonConnection.open(address, timeout, timer)) {
            OutputStream out = c.output();
            IOException sending = null;
            try {
                out.write("zINSTREAM\0".getBytes(StandardCharsets.US_ASCII));
                byte[] chunk = new byte[4 + CHUNK];
                int n;
                while ((n = content.readNBytes(chunk, 4, CHUNK)) > 0) {
                    chunk[0] = (byte) (n >>> 24);
                    chunk[1] = (byte) (n >>> 16);
                    chunk[2] = (byte) (n >>> 8);
                    chunk[3] = (byte) n;
                    out.write(chunk, 0, 4 + n);
                }
                out.write(new byte[4]);
                out.flush();
            } catch (IOException e) {
                // clamd stops reading and closes when the stream is too long: its answer says why
                sending = e;
            }
            String answer;
            try {
                answer = answer(c.input());
            } catch (IOException e) {
                throw c.failure("clamd " + address, sending != null ? sending : e);
            }
            if (answer.isEmpty() && sending != null) {
                throw c.failure("clamd " + address, sending);
            }
            return parse(address, answer);
        }
    }

    /** Sends {@code zCOMMAND} (PING, VERSION) and returns the answer. */
    String command(DaemonAddress address, Duration timeout, String command) throws IOException {
        try (DaemonConnection c = DaemonConnection.open(address, timeout, timer)) {
            try {
                c.output().write(("z" + command + "\0").getBytes(StandardCharsets.US_ASCII));
                return answer(c.input());
            } catch (IOException e) {
                throw c.failure("clamd " + address, e);
            }
        }
    }

    /** Reads up to the NUL that ends a z-command's answer (or end of stream). */
    private static String answer(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        int c;
        while ((c = in.read()) >= 0 && c != 0) {
            if (b.size() >= MAX_ANSWER) {
                throw new IOException("answer longer than " + MAX_ANSWER + " bytes");
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.UTF_8).strip();
    }

    /** {@code stream: OK}, {@code stream: NAME FOUND}; anything else (… ERROR) is an error. */
    static Result parse(DaemonAddress address, String answer) throws IOException {
        String a = answer.startsWith("stream: ") ? answer.substring(8) : answer;
        if (a.equals("OK")) {
            return new Result.Clean();
        }
        if (a.endsWith(" FOUND") && answer.startsWith("stream: ")) {
            String name = a.substring(0, a.length() - 6).strip().replaceAll("[\\x00-\\x1f\\x7f]", "?");
            return new Result.Infected(name);
        }
        throw new IOException("clamd " + address + ": " + (answer.isEmpty() ? "no answer" : answer));
    }
}
