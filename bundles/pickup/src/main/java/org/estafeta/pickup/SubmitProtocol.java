package org.estafeta.pickup;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The protocol on the submission socket {@code public/pickup} (docs/local-submission.md). The client sends
 * {@code ESTAFETA-SUBMIT 1}, then envelope lines ({@code sender X}, {@code fullname X}, {@code param NAME VALUE},
 * {@code rcpt ADDRESS NOTIFY}, values in xtext), then {@code data}, then the message in chunks
 * ({@code <length>\n<bytes>}) and a last chunk {@code 0\n}. The server answers one line: {@code ok QUEUEID} once
 * the maildrop file is durable, or {@code error EXIT TEXT} (EXIT a sysexits code for the sendmail command).
 * Lines end with {@code \n} and are ASCII.
 */
public final class SubmitProtocol {
    public static final String MAGIC = "ESTAFETA-SUBMIT 1";
    public static final String DATA = "data";
    /** Longest line accepted (an envelope line, a chunk length, the answer). */
    public static final int MAX_LINE = 4096;
    /** Largest chunk the client sends. */
    public static final int CHUNK = 64 * 1024;

    private SubmitProtocol() {
    }

    /** One line without its {@code \n}; null at end of stream before any byte. */
    public static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                if (b.size() == 0) {
                    return null;
                }
                throw new IOException("connection closed inside a line");
            }
            if (b.size() >= MAX_LINE) {
                throw new IOException("line longer than " + MAX_LINE + " bytes");
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    public static void writeLine(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    /** Writes the message as chunks; {@link #close} sends the last chunk (and does not close the connection). */
    public static final class ChunkedOutput extends OutputStream {
        private final OutputStream out;
        private final byte[] buffer = new byte[CHUNK];
        private int used;

        public ChunkedOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = Math.min(len, buffer.length - used);
                System.arraycopy(b, off, buffer, used, n);
                used += n;
                off += n;
                len -= n;
                if (used == buffer.length) {
                    flushChunk();
                }
            }
        }

        private void flushChunk() throws IOException {
            if (used > 0) {
                writeLine(out, Integer.toString(used));
                out.write(buffer, 0, used);
                used = 0;
            }
        }

        @Override
        public void close() throws IOException {
            flushChunk();
            writeLine(out, "0");
            out.flush();
        }
    }

    /** Reads chunks; returns -1 after the last chunk. Throws when the connection ends before it. */
    public static final class ChunkedInput extends InputStream {
        private final InputStream in;
        private int left;
        private boolean ended;

        public ChunkedInput(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (ended) {
                return -1;
            }
            if (left == 0) {
                String line = readLine(in);
                if (line == null || !line.matches("[0-9]{1,9}")) {
                    throw new IOException(line == null ? "connection closed before the end of the message"
                            : "bad chunk length");
                }
                left = Integer.parseInt(line);
                if (left == 0) {
                    ended = true;
                    return -1;
                }
                if (left > CHUNK) {
                    throw new IOException("chunk too large");
                }
            }
            int n = in.read(b, off, Math.min(len, left));
            if (n < 0) {
                throw new IOException("connection closed before the end of the message");
            }
            left -= n;
            return n;
        }
    }
}
