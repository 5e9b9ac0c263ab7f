package org.estafeta.smtpd;

import java.util.Arrays;
import java.util.List;

import io.netty.buffer.ByteBuf;

/**
 * Message content as Postfix's smtpd reads it (receive_data_message() and bdat_cmd() over smtp_get()), as a
 * streaming state machine: memory is a fixed output block whatever the message or line size.
 * <ul>
 * <li>A line ends at LF. With bare-newline detection on ({@code smtpd_forbid_bare_newline = normalize}, the
 * default), one CR before the LF belongs to the terminator and a line without it ended in a "bare LF"; with
 * detection off every CR before the LF is dropped. A CR anywhere else is content. Lines are written with CRLF.</li>
 * <li>DATA: a line starting with {@code .} loses that dot; the line {@code .} ends the content. With detection on,
 * only {@code <CRLF>.<CRLF>} ends it: a {@code .} line that ends in a bare LF, or that follows a line that did, is
 * dropped and the content goes on (the 2023 "SMTP smuggling" defence of Postfix 3.9: {@code <LF>.<LF>},
 * {@code <LF>.<CR><LF>}, {@code <CR><LF>.<LF>} never end a message). {@code <CR>.<CR>} is content.</li>
 * <li>BDAT: the same line handling without dots; an unterminated last line gets a CRLF.</li>
 * <li>Bytes beyond {@code message_size_limit} are counted but dropped.</li>
 * </ul>
 */
final class ContentDecoder {
    /** Output block size: content is handed on in pieces of at most this many bytes. */
    static final int BLOCK = 8192;
    /** A run of CRs after a leading dot longer than this is content, whatever follows. */
    private static final int MAX_DOT_CRS = 1024;

    private enum State { LINE_START, DOT, IN_LINE }

    private final boolean detectBareLf;
    private final long sizeLimit;
    private final byte[] block = new byte[BLOCK];
    private int blockLength;
    private State state = State.LINE_START;
    private int pendingCr;
    private boolean prevBareLf;
    private boolean sawBareLf;
    private long size;
    private boolean sizeExceeded;
    /** Where full blocks go during one call. */
    private List<Object> sink;

    /**
     * @param detectBareLf bare-newline detection (and standard end-of-data) on
     * @param sizeLimit {@code message_size_limit}, 0 for none
     */
    ContentDecoder(boolean detectBareLf, long sizeLimit) {
        this.detectBareLf = detectBareLf;
        this.sizeLimit = sizeLimit;
    }

    /**
     * DATA: consumes bytes from {@code in}, adding {@link SmtpInput.Content} blocks to {@code out}; returns true
     * (after flushing and adding {@link SmtpInput.ContentEnd}) once the end-of-data line was read, with {@code in}
     * positioned after it.
     */
    boolean data(ByteBuf in, List<Object> out) {
        sink = out;
        int i = in.readerIndex();
        int end = in.writerIndex();
        while (i < end) {
            byte b = in.getByte(i++);
            switch (state) {
                case LINE_START:
                    if (b == '.') {
                        state = State.DOT;
                        break;
                    }
                    state = State.IN_LINE;
                    inLine(b, out);
                    break;
                case DOT:
                    if (b == '\r' && pendingCr < MAX_DOT_CRS) {
                        pendingCr++;
                    } else if (b == '\n') {
                        if (dotLineEnds()) {
                            in.readerIndex(i);
                            pendingCr = 0;
                            state = State.LINE_START;
                            flush(out);
                            out.add(new SmtpInput.ContentEnd(sawBareLf, size, sizeExceeded));
                            return true;
                        }
                    } else {
                        state = State.IN_LINE; // the dot is dropped: RFC 5321 transparency
                        inLine(b, out);
                    }
                    break;
                default:
                    inLine(b, out);
            }
        }
        in.readerIndex(end);
        flush(out);
        return false;
    }

    /** The line was a dot, {@code pendingCr} CRs and an LF: true if that ends the content, else handles the line. */
    private boolean dotLineEnds() {
        if (!detectBareLf) {
            return true; // every CR before the LF is part of the terminator
        }
        boolean bare = pendingCr == 0;
        if (bare || pendingCr == 1) {
            if (bare) {
                sawBareLf = true;
            }
            if (!bare && !prevBareLf) {
                return true; // <CRLF>.<CRLF>
            }
            // ".<LF>" or "<LF>.<CRLF>": not an end; Postfix drops this line
            prevBareLf = bare;
            pendingCr = 0;
            state = State.LINE_START;
            return false;
        }
        // ".<CR>...<CR><CR><LF>": the content "<CR>..." after unstuffing
        for (int k = 0; k < pendingCr - 1; k++) {
            put((byte) '\r');
        }
        put((byte) '\r');
        put((byte) '\n');
        pendingCr = 0;
        prevBareLf = false;
        state = State.LINE_START;
        return false;
    }

    /**
     * BDAT: consumes at most {@code max} bytes of {@code in}; returns how many. Content goes to {@code out}.
     */
    int bdat(ByteBuf in, long max, List<Object> out) {
        sink = out;
        int n = (int) Math.min(max, in.readableBytes());
        int i = in.readerIndex();
        int end = i + n;
        while (i < end) {
            inLine(in.getByte(i++), out);
        }
        in.readerIndex(end);
        flush(out);
        return n;
    }

    /** BDAT LAST: ends an unterminated last line and reports the end. */
    void finishBdat(List<Object> out) {
        sink = out;
        if (state == State.IN_LINE || pendingCr > 0) {
            for (int k = 0; k < pendingCr; k++) {
                put((byte) '\r');
            }
            put((byte) '\r');
            put((byte) '\n');
            pendingCr = 0;
            state = State.LINE_START;
        }
        flush(out);
        out.add(new SmtpInput.ContentEnd(sawBareLf, size, sizeExceeded));
    }

    /** The end of one non-final BDAT chunk. */
    void endChunk(List<Object> out) {
        flush(out);
        out.add(new SmtpInput.ContentEnd(sawBareLf, size, sizeExceeded));
    }

    private void inLine(byte b, List<Object> out) {
        if (b == '\r') {
            pendingCr++;
            state = State.IN_LINE;
            return;
        }
        if (b == '\n') {
            boolean bare;
            if (detectBareLf) {
                bare = pendingCr == 0;
                for (int k = 0; k < pendingCr - 1; k++) {
                    put((byte) '\r');
                }
            } else {
                bare = false;
            }
            pendingCr = 0;
            if (bare) {
                sawBareLf = true;
            }
            prevBareLf = bare;
            put((byte) '\r');
            put((byte) '\n');
            state = State.LINE_START;
            return;
        }
        while (pendingCr > 0) {
            pendingCr--;
            put((byte) '\r');
        }
        state = State.IN_LINE;
        put(b);
    }

    private void put(byte b) {
        size++;
        if (sizeExceeded) {
            return;
        }
        if (sizeLimit > 0 && size > sizeLimit) {
            sizeExceeded = true;
            return;
        }
        if (blockLength == BLOCK) {
            flush(sink);
        }
        block[blockLength++] = b;
    }

    private void flush(List<Object> out) {
        if (blockLength > 0) {
            out.add(new SmtpInput.Content(Arrays.copyOf(block, blockLength)));
            blockLength = 0;
        }
    }

    long size() {
        return size;
    }

    boolean sawBareLf() {
        return sawBareLf;
    }
}
