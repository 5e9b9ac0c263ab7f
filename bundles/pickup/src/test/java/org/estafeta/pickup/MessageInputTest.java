package org.estafeta.pickup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Standard input as Postfix's sendmail reads it, and the -t header scan (To/Cc/Bcc, Resent-*, Bcc removed). */
class MessageInputTest {
    private record Read(MessageInput.Header header, String all) {
    }

    private static Read read(String input, boolean dotEnds) throws IOException {
        MessageInput m = new MessageInput(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), dotEnds,
                Sendmail.HEADER_LIMIT);
        MessageInput.Header h = m.readHeader();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(h.bytes());
        m.copyBody(out);
        return new Read(h, out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void recipientsFromToCcAndBccWithBccRemoved() throws IOException {
        Read r = read("From: me\nTo: Bob <bob@example.org>, carol (Carol C.)\nCc: \"Doe, J\" <j@example.net>,\n"
                + " team: x@example.com, y@example.com;\nBcc: hidden@example.org\n  , also-hidden\n"
                + "Apparently-To: not@example.org\nSubject: hi\n\nbody\n", true);
        assertEquals(List.of("bob@example.org", "carol", "j@example.net", "x@example.com", "y@example.com",
                "hidden@example.org", "also-hidden"), r.header().extracted());
        assertEquals("From: me\r\nTo: Bob <bob@example.org>, carol (Carol C.)\r\nCc: \"Doe, J\" <j@example.net>,\r\n"
                + " team: x@example.com, y@example.com;\r\nApparently-To: not@example.org\r\nSubject: hi\r\n\r\n"
                + "body\r\n", r.all(), "Bcc and its continuation are gone; LF became CRLF");
    }

    @Test
    void resentHeadersWinAndResentBccIsRemoved() throws IOException {
        Read r = read("Resent-To: r1@example.org\nResent-Bcc: r2@example.org\nTo: original@example.org\n"
                + "Bcc: b@example.org\n\nx\n", true);
        assertEquals(List.of("r1@example.org", "r2@example.org"), r.header().extracted());
        assertEquals(List.of("original@example.org", "b@example.org"), r.header().recipients());
        assertEquals("Resent-To: r1@example.org\r\nTo: original@example.org\r\n\r\nx\r\n", r.all());
    }

    @Test
    void undisclosedRecipientsGroupAndEmptyAngleAddressGiveNone() throws IOException {
        assertEquals(List.of(), read("To: undisclosed-recipients:;\nCc: <>\n\n", true).header().extracted());
    }

    @Test
    void aLoneDotEndsTheMessageUnlessDashI() throws IOException {
        assertEquals("Subject: s\r\n\r\nline\r\n", read("Subject: s\n\nline\n.\nafter\n", true).all());
        assertEquals("Subject: s\r\n\r\nline\r\n.\r\nafter\r\n", read("Subject: s\n\nline\n.\nafter\n", false).all());
        assertEquals("Subject: s\r\n", read("Subject: s\n.\nbody\n", true).all(), "also in the header section");
        assertEquals("Subject: s\r\n\r\n..\r\n. \r\n", read("Subject: s\n\n..\n. \n", true).all(),
                "only a dot alone, and no dot-unstuffing");
    }

    @Test
    void fromLineSkippedCarriageReturnsFixedAndLastLineEnded() throws IOException {
        assertEquals("Subject: s\r\n\r\na\r\nb\r\nc\r\n", read("From me  Mon Jan 1\nSubject: s\r\n\r\na\r\nb\r\r\nc", true).all());
        assertEquals("body without headers\r\n", read("body without headers\n", true).all(),
                "a first line that is no header starts the body");
    }

    @Test
    void aHundredMegabyteBodyStreamsWithoutBeingHeld() throws IOException {
        long size = 100L * 1024 * 1024;
        InputStream body = new InputStream() {
            long left = size;

            @Override
            public int read() {
                return left-- > 0 ? (left % 100 == 0 ? '\n' : 'x') : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                for (int i = 0; i < n; i++) {
                    b[off + i] = (byte) read();
                }
                return n;
            }
        };
        MessageInput m = new MessageInput(new java.io.SequenceInputStream(
                new ByteArrayInputStream("Subject: big\n\n".getBytes(StandardCharsets.US_ASCII)), body), true, 4096);
        m.readHeader();
        long[] count = new long[1];
        m.copyBody(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                count[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                count[0] += len;
            }
        });
        assertTrue(count[0] > size, "every line got its CR: " + count[0]);
    }
}
