package org.estafeta.smtpd;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * Splits the client's byte stream into command lines, with Postfix's rules (smtp_get()): a line ends at LF, and
 * the CRs before that LF are removed; a line is too long when its LF is not within the first
 * {@code line_length_limit} bytes, except that a CRLF may straddle the limit. A too-long line is skipped, not kept:
 * memory per connection stays at about {@code line_length_limit} whatever the client sends.
 */
final class SmtpLineDecoder extends ByteToMessageDecoder {
    /** How much of a too-long line is kept for the log (Postfix logs {@code %.30s}). */
    static final int KEPT_PREFIX = 30;

    private final int limit;
    private boolean discarding;
    private String discardedStart;
    private long discardedLength;

    SmtpLineDecoder(int limit) {
        this.limit = limit;
    }

    /** Bytes held for a line not yet complete (never much more than the limit). */
    int buffered() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
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
                continue;
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
                continue;
            }
            int end = lf;
            while (end > start && in.getByte(end - 1) == '\r') {
                end--;
            }
            out.add(new SmtpInput.Line(in.toString(start, end - start, StandardCharsets.ISO_8859_1)));
            in.readerIndex(lf + 1);
        }
    }
}
