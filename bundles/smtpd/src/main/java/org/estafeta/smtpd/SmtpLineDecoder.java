package org.estafeta.smtpd;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * The client's byte stream as the session reads it, one step at a time: command lines, DATA content (dot-unstuffed
 * by {@link ContentDecoder}) or BDAT chunks of a given size.
 *
 * <p>Command lines follow Postfix's smtp_get(): a line ends at LF; with bare-newline detection on, one CR before the
 * LF belongs to the terminator and a line without it is flagged {@code bareLf}; with detection off, every CR before
 * the LF is dropped. A line is too long when its LF is not within the first {@code line_length_limit} bytes, except
 * that a CRLF may straddle the limit; a too-long line is skipped, not kept.
 *
 * <p>One command line per {@link #decode} call, so the session sees exactly one command at a time and can
 * {@link #pause()} the decoder while a command waits for something (DNS, restrictions, the queue, an error delay);
 * bytes that arrive meanwhile stay here, and once more than {@link #PAUSED_BUFFER_LIMIT} are waiting, reading from
 * the socket stops. The decoder pauses itself after each {@link SmtpInput.ContentEnd}. {@link #resume} continues.
 * What stays buffered while a command runs is what Postfix's pipelining check peeks at ({@link #buffered()}).
 */
final class SmtpLineDecoder extends ByteToMessageDecoder {
    /** How much of a too-long line is kept for the log (Postfix logs {@code %.30s}). */
    static final int KEPT_PREFIX = 30;
    /** While paused, at most about this many bytes are read ahead before reading from the socket stops. */
    static final int PAUSED_BUFFER_LIMIT = 16 * 1024;

    private enum Mode { COMMAND, DATA, BDAT }

    private int limit;
    private boolean detectBareLf;
    private Mode mode = Mode.COMMAND;
    private boolean paused;
    private boolean discarding;
    private String discardedStart;
    private long discardedLength;
    private ContentDecoder content;
    private long bdatRemaining;
    private boolean bdatLast;
    private ChannelHandlerContext context;

    /** Changes the line length limit from the next line on (AUTH responses may be longer than commands). */
    void limit(int newLimit) {
        this.limit = newLimit;
    }

    SmtpLineDecoder(int limit) {
        this.limit = limit;
    }

    /** Bare-newline detection for this client ({@code smtpd_forbid_bare_newline} and its exclusions). */
    void detectBareLf(boolean on) {
        this.detectBareLf = on;
    }

    boolean detectsBareLf() {
        return detectBareLf;
    }

    /** Bytes read from the socket and not yet consumed. */
    int buffered() {
        return actualReadableBytes();
    }

    /** The first bytes waiting (at most {@code max}), one char per byte, for the pipelining log line. */
    String peek(int max) {
        ByteBuf buf = internalBuffer();
        return buf.toString(buf.readerIndex(), Math.min(max, buf.readableBytes()), StandardCharsets.ISO_8859_1);
    }

    /**
     * Throws away what the client sent and was not read as a command yet: after STARTTLS, plaintext pipelined behind
     * the command must never be taken as commands of the TLS session (CVE-2011-0411; Postfix purges it too).
     * Returns how many bytes were dropped.
     */
    int discardBuffered() {
        ByteBuf buf = internalBuffer();
        int n = buf.readableBytes();
        buf.skipBytes(n);
        return n;
    }

    boolean isPaused() {
        return paused;
    }

    /** No more input to the session until {@link #resume}. */
    void pause() {
        paused = true;
    }

    /**
     * Continues decoding what is buffered, then reading. Must run on the event loop, outside of the session's
     * channelRead (the session schedules it).
     */
    void resume() {
        paused = false;
        if (context != null && !context.isRemoved()) {
            // Runs the buffered bytes through decode() again, exactly as if they had just arrived.
            channelRead(context, Unpooled.EMPTY_BUFFER);
            channelReadComplete(context);
        }
    }

    /** A BDAT chunk of size 0: no bytes to wait for; the end (after {@code content} of earlier chunks) at once. */
    SmtpInput.ContentEnd emptyChunk(boolean last, boolean first, long sizeLimit, List<Object> out) {
        if (first || content == null) {
            content = new ContentDecoder(detectBareLf, sizeLimit);
        }
        if (last) {
            content.finishBdat(out);
            content = null;
        } else {
            content.endChunk(out);
        }
        return (SmtpInput.ContentEnd) out.get(out.size() - 1);
    }

    /** The next bytes are DATA content, up to and including the end-of-data line. */
    void startData(long sizeLimit) {
        mode = Mode.DATA;
        content = new ContentDecoder(detectBareLf, sizeLimit);
    }

    /**
     * The next {@code size} bytes are a BDAT chunk. {@code first} starts a new message (and a new size count).
     */
    void startBdat(long size, boolean last, boolean first, long sizeLimit) {
        mode = Mode.BDAT;
        if (first || content == null) {
            content = new ContentDecoder(detectBareLf, sizeLimit);
        }
        bdatRemaining = size;
        bdatLast = last;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        context = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            super.channelRead(ctx, msg);
        } catch (Exception e) {
            ctx.fireExceptionCaught(e);
            return;
        }
        if (paused && actualReadableBytes() > PAUSED_BUFFER_LIMIT) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // ByteToMessageDecoder asks for another read when auto-read is off and nothing was decoded; a paused
        // decoder must not, or it would read without bound.
        discardSomeReadBytes();
        ctx.fireChannelReadComplete();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (paused || !in.isReadable() && !(mode == Mode.BDAT && bdatRemaining == 0)) {
            return;
        }
        switch (mode) {
            case DATA -> {
                if (content.data(in, out)) {
                    mode = Mode.COMMAND;
                    content = null;
                    paused = true;
                }
            }
            case BDAT -> {
                bdatRemaining -= content.bdat(in, bdatRemaining, out);
                if (bdatRemaining == 0) {
                    if (bdatLast) {
                        content.finishBdat(out);
                        content = null;
                    } else {
                        content.endChunk(out);
                    }
                    mode = Mode.COMMAND;
                    paused = true;
                }
            }
            default -> line(in, out);
        }
    }

    private void line(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int lf = in.indexOf(start, in.writerIndex(), (byte) '\n');
        if (discarding) {
            if (lf < 0) {
                discardedLength += in.readableBytes();
                in.skipBytes(in.readableBytes());
                return;
            }
            discardedLength += lf - start;
            in.readerIndex(lf + 1);
            discarding = false;
            out.add(new SmtpInput.OverlongLine(discardedStart, discardedLength));
            discardedStart = null;
            return;
        }
        if (lf < 0) {
            // At most `limit` bytes may precede the LF (the last of them a CR). More than that: too long already.
            if (in.readableBytes() > limit) {
                discarding = true;
                discardedStart = in.toString(start, Math.min(KEPT_PREFIX, in.readableBytes()), StandardCharsets.ISO_8859_1);
                discardedLength = in.readableBytes();
                in.skipBytes(in.readableBytes());
            }
            return;
        }
        int length = lf - start;
        boolean fits = length < limit || (length == limit && in.getByte(lf - 1) == '\r');
        if (!fits) {
            out.add(new SmtpInput.OverlongLine(in.toString(start, Math.min(KEPT_PREFIX, length), StandardCharsets.ISO_8859_1), length));
            in.readerIndex(lf + 1);
            return;
        }
        int end = lf;
        boolean bareLf = false;
        if (detectBareLf) {
            if (end > start && in.getByte(end - 1) == '\r') {
                end--;
            } else {
                bareLf = true;
            }
        } else {
            while (end > start && in.getByte(end - 1) == '\r') {
                end--;
            }
        }
        out.add(new SmtpInput.Line(in.toString(start, end - start, StandardCharsets.ISO_8859_1), bareLf));
        in.readerIndex(lf + 1);
    }
}
