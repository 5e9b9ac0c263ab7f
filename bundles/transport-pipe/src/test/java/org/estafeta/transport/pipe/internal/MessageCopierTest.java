package org.estafeta.transport.pipe.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class MessageCopierTest {
    private static final ZonedDateTime NOW = ZonedDateTime.of(2003, 1, 7, 12, 2, 20, 0, ZoneOffset.UTC);
    private static final String MESSAGE = "Subject: hi\r\n\r\n.leading dot\r\nFrom the start\r\n From inside\r\nlast\r\n";

    private static String copy(String flags, String eol, String message, String sender) throws Exception {
        return new String(copyBytes(flags, eol, message.getBytes(StandardCharsets.ISO_8859_1), sender),
                StandardCharsets.ISO_8859_1);
    }

    private static byte[] copyBytes(String flags, String eol, byte[] message, String sender) throws Exception {
        PipeAttributes attr = PipeAttributes.parse(List.of("flags=" + flags, "eol=" + eol, "user=x", "argv=/bin/cat"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new MessageCopier(attr).copy(new ByteArrayInputStream(message), out, sender, "orig@example.com",
                "rcpt@example.com", NOW, true);
        return out.toByteArray();
    }

    @Test
    void withoutFlagsOnlyLineEndsChange() throws Exception {
        assertEquals("Subject: hi\n\n.leading dot\nFrom the start\n From inside\nlast\n", copy("", "\\n", MESSAGE, "s@x"));
        assertEquals(MESSAGE, copy("", "\\r\\n", MESSAGE, "s@x"));
    }

    @Test
    void everyFlagOnTheBytes() throws Exception {
        assertEquals("From s@example.org  Tue Jan  7 12:02:20 2003\n"
                + "Return-Path: <s@example.org>\n"
                + "X-Original-To: orig@example.com\n"
                + "Delivered-To: rcpt@example.com\n"
                + "Subject: hi\n\n..leading dot\n>From the start\n From inside\nlast\n\n",
                copy("FRODB.>", "\\n", MESSAGE, "s@example.org"));
    }

    @Test
    void nullSenderAndQuotingInHeaders() throws Exception {
        assertEquals("From MAILER-DAEMON  Tue Jan  7 12:02:20 2003\nReturn-Path: <>\nx\n", copy("FR", "\\n", "x\r\n", ""));
        assertEquals("Return-Path: <\"john doe\"@example.org>\nx\n", copy("R", "\\n", "x\r\n", "john doe@example.org"));
    }

    @Test
    void lastLineWithoutLineEndGetsOneAndBareLfIsALineEnd() throws Exception {
        assertEquals("a\nb\nc\n", copy("", "\\n", "a\nb\r\nc", "s@x"));
        assertEquals("a\rb\n", copy("", "\\n", "a\rb", "s@x"), "a lone CR is data");
        assertEquals("\r\n", copy("", "\\n", "\r", "s@x"), "a CR at the very end is data too");
        assertEquals("", copy("", "\\n", "", "s@x"));
    }

    @Test
    void crlfSplitAcrossReadsIsStillALineEnd() throws Exception {
        byte[] msg = new byte[200_000];
        Arrays.fill(msg, (byte) 'a');
        for (int at : new int[] {65_535, 131_071, 150_000}) {
            msg[at] = '\r';
            msg[at + 1] = '\n';
        }
        msg[65_537] = '.';
        // a stream that hands out 7 bytes at a time splits CR from LF at many points
        InputStream trickle = new ByteArrayInputStream(msg) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 7));
            }
        };
        PipeAttributes attr = PipeAttributes.parse(List.of("flags=.", "user=x", "argv=/bin/cat"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new MessageCopier(attr).copy(trickle, out, "", "", "r@x", NOW, true);
        String s = out.toString(StandardCharsets.ISO_8859_1);
        assertEquals(-1, s.indexOf('\r'));
        assertEquals(4, s.chars().filter(c -> c == '\n').count());
        assertEquals(msg.length - 3 * 2 + 3 + 1 + 1, s.length(), "3 CRLF became LF, one dot doubled, final LF added");
        assertEquals("\n..", s.substring(65_535, 65_538));
    }

    @Test
    void readErrorsAreToldApartFromWriteErrors() {
        InputStream broken = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("disk on fire");
            }
        };
        PipeAttributes attr;
        try {
            attr = PipeAttributes.parse(List.of("user=x", "argv=/bin/cat"));
        } catch (PipeConfigException e) {
            throw new AssertionError(e);
        }
        assertThrows(MessageCopier.ReadException.class,
                () -> new MessageCopier(attr).copy(broken, new ByteArrayOutputStream(), "", "", "r@x", NOW, true));
        OutputStream closed = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        IOException e = assertThrows(IOException.class, () -> new MessageCopier(attr)
                .copy(new ByteArrayInputStream("x\r\n".getBytes()), closed, "", "", "r@x", NOW, true));
        assertEquals(IOException.class, e.getClass());
    }
}
