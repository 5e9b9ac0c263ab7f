package org.estafeta.transport.smtp.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The message content as it goes after DATA, one buffer at a time: dot-stuffing, CRLF line ends (a bare LF
 * becomes CRLF), lines longer than {@code smtp_line_length_limit} broken with CRLF SPACE as Postfix's
 * smtp_text_out() does, and the final {@code .CRLF}. Memory stays bounded whatever the message size.
 */
final class DataEncoder {
    static final int CHUNK = 64 * 1024;

    private final InputStream in;
    private final int lineLimit;
    private final byte[] buf = new byte[CHUNK];
    private boolean lineStart = true;
    private boolean pendingCr;
    private int column;
    private boolean done;
    /** Whether a long line was broken (Postfix logs that once). */
    boolean brokeLongLine;

    /** @param lineLimit {@code smtp_line_length_limit}; 0 for none */
    DataEncoder(InputStream in, int lineLimit) {
        this.in = in;
        this.lineLimit = lineLimit;
    }

    /** The next encoded piece, or null after the final dot was returned. */
    byte[] next() throws IOException {
        if (done) {
            return null;
        }
        int n = in.read(buf);
        ByteArrayOutputStream out = new ByteArrayOutputStream(n > 0 ? n + n / 16 + 16 : 16);
        if (n < 0) {
            if (pendingCr) {
                data(out, '\r');
                pendingCr = false;
            }
            if (!lineStart) {
                out.write('\r');
                out.write('\n');
            }
            out.write('.');
            out.write('\r');
            out.write('\n');
            done = true;
            return out.toByteArray();
        }
        for (int i = 0; i < n; i++) {
            int b = buf[i] & 0xff;
            if (pendingCr) {
                pendingCr = false;
                if (b == '\n') {
                    endLine(out);
                    continue;
                }
                data(out, '\r');
            }
            if (b == '\r') {
                pendingCr = true;
            } else if (b == '\n') {
                endLine(out);
            } else {
                data(out, b);
            }
        }
        return out.toByteArray();
    }

    private void endLine(ByteArrayOutputStream out) {
        out.write('\r');
        out.write('\n');
        lineStart = true;
        column = 0;
    }

    private void data(ByteArrayOutputStream out, int b) {
        if (lineLimit > 0 && column >= lineLimit) {
            out.write('\r');
            out.write('\n');
            out.write(' ');
            column = 1;
            brokeLongLine = true;
        } else if (lineStart && b == '.') {
            out.write('.');
        }
        out.write(b);
        column++;
        lineStart = false;
    }
}
