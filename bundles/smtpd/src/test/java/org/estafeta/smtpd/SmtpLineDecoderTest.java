package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

class SmtpLineDecoderTest {
    private static final int LIMIT = 512;
    private final EmbeddedChannel channel = new EmbeddedChannel(new SmtpLineDecoder(LIMIT));

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private List<SmtpInput> decode(String... chunks) {
        for (String chunk : chunks) {
            channel.writeInbound(Unpooled.copiedBuffer(chunk, StandardCharsets.ISO_8859_1));
        }
        List<SmtpInput> out = new ArrayList<>();
        SmtpInput input;
        while ((input = channel.readInbound()) != null) {
            out.add(input);
        }
        return out;
    }

    private static SmtpInput line(String text) {
        return new SmtpInput.Line(text);
    }

    @Test
    void splitsOnCrlfAndBareLfAndStripsTheCrsBeforeLf() {
        assertEquals(List.of(line("EHLO a"), line("NOOP"), line("QUIT"), line("")),
                decode("EHLO a\r\nNOOP\nQUIT\r\r\n\r\n"));
    }

    @Test
    void keepsABareCrInsideALineAndWaitsForTheRestOfALine() {
        assertEquals(List.of(), decode("NO\rOP"));
        assertEquals(List.of(line("NO\rOP")), decode("\r\n"));
    }

    @Test
    void keepsEveryByteAsOneChar() {
        assertEquals(List.of(line("\u00e9\u0000\u00ff")), decode("\u00e9\u0000\u00ff\r\n"));
    }

    /** Postfix's smtp_get(): the LF must be within the first line_length_limit bytes, or right after a CR there. */
    @Test
    void limitIsCountedLikePostfix() {
        String fits1 = "a".repeat(LIMIT - 2);     // 510 bytes + CRLF = 512 bytes
        String fits2 = "b".repeat(LIMIT - 1);     // 511 bytes + CRLF: the CRLF straddles the limit
        String fits3 = "c".repeat(LIMIT - 1);     // 511 bytes + LF = 512 bytes
        String tooLong1 = "d".repeat(LIMIT);      // 512 bytes + CRLF
        String tooLong2 = "e".repeat(LIMIT);      // 512 bytes + LF
        assertEquals(List.of(line(fits1)), decode(fits1 + "\r\n"));
        assertEquals(List.of(line(fits2)), decode(fits2 + "\r\n"));
        assertEquals(List.of(line(fits3)), decode(fits3 + "\n"));
        assertEquals(List.of(new SmtpInput.OverlongLine("d".repeat(30), LIMIT + 1)), decode(tooLong1 + "\r\n"));
        assertEquals(List.of(new SmtpInput.OverlongLine("e".repeat(30), LIMIT)), decode(tooLong2 + "\n"));
    }

    @Test
    void overlongLineArrivingInPiecesIsSkippedToItsEndAndDecodingResumes() {
        assertEquals(List.of(), decode("MAIL FROM:<" + "x".repeat(400), "x".repeat(400), "y".repeat(5000)));
        // Nothing of the skipped line is held: the cumulation buffer is empty while discarding.
        assertTrue(internalBufferSize() <= LIMIT, "buffer " + internalBufferSize());
        List<SmtpInput> out = decode("zzz\r\nNOOP\r\n");
        assertEquals(2, out.size());
        SmtpInput.OverlongLine overlong = (SmtpInput.OverlongLine) out.get(0);
        assertEquals("MAIL FROM:<xxxxxxxxxxxxxxxxxxx", overlong.start());
        assertEquals(11 + 400 + 400 + 5000 + 3 + 1, overlong.length()); // the CR counts, as Postfix reads it
        assertEquals(line("NOOP"), out.get(1));
        assertNull(channel.readInbound());
    }

    private int internalBufferSize() {
        return channel.pipeline().get(SmtpLineDecoder.class).buffered();
    }
}
