package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.Reply;
import org.estafeta.cleanup.Submission;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Mail transactions end to end on an embedded channel, with an in-memory Cleanup. */
class TransactionTest {
    private final Harness h = new Harness();
    private final FakeCleanup cleanup = new FakeCleanup();

    @AfterEach
    void close() {
        h.close();
    }

    /** Client 127.0.0.1 (in mynetworks, so recipients are accepted without a restriction engine). */
    private Harness open(String... params) {
        h.clientIp = "127.0.0.1";
        h.cleanup = cleanup;
        h.open(params);
        h.output();
        return h;
    }

    private void envelope() {
        assertEquals("250-mx.example.org\r\n", h.ask("EHLO client.example.com\r\n").substring(0, 20));
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
    }

    @Test
    void fullTransactionCarriesDsnParametersAndTheUnstuffedBytes() {
        open();
        h.ask("EHLO client.example.com\r\n");
        assertEquals("250 2.1.0 Ok\r\n",
                h.ask("MAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2Bx\r\n"));
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<b@example.net> NOTIFY=SUCCESS,delay ORCPT=rfc822;b+40example.net\r\n"));
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<c@example.net>\r\n"));
        assertEquals("354 End data with <CR><LF>.<CR><LF>\r\n", h.ask("DATA\r\n"));
        String wire = "Subject: dots\r\n\r\n..leading dot\r\n..\r\n...\r\nplain\r\n. not end\r\n.\r\n";
        assertEquals("", h.ask(wire.substring(0, 20)));
        String reply = h.ask(wire.substring(20));
        Matcher.queued(reply);
        FakeCleanup.Message m = cleanup.single();
        assertEquals(FakeCleanup.State.COMMITTED, m.state());
        assertEquals("250 2.0.0 Ok: queued as " + m.queueId() + "\r\n", reply);
        assertEquals("Subject: dots\r\n\r\n.leading dot\r\n.\r\n..\r\nplain\r\n not end\r\n", m.text());
        Submission s = m.envelope();
        assertEquals("a@example.org", s.sender());
        assertEquals(Map.of("SIZE", "1000", "BODY", "8BITMIME", "SMTPUTF8", "", "RET", "HDRS", "ENVID", "QQ+2Bx"),
                s.mailParameters());
        assertEquals(List.of(
                new Submission.Recipient("b@example.net", List.of("SUCCESS", "DELAY"), Optional.of("rfc822;b+40example.net")),
                new Submission.Recipient("c@example.net", List.of(), Optional.empty())), s.recipients());
        assertEquals("ESMTP", s.protocol());
        assertEquals("127.0.0.1", s.client().address());
        assertEquals("client.example.com", s.client().helo());
        assertTrue(h.log.lines.contains("info: " + m.queueId() + ": client=unknown[127.0.0.1]"), h.log.lines.toString());
        // The transaction is over: a new one can start, and the counters show it.
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<>\r\n"));
        assertEquals("221 2.0.0 Bye\r\n", h.ask("QUIT\r\n"));
        assertTrue(h.log.lines.get(h.log.lines.size() - 1)
                .endsWith(" ehlo=1 mail=2 rcpt=2 data=1 quit=1 commands=7"), h.log.lines.toString());
    }

    @Test
    void contentIsStreamedAsItArrivesNotHeldForTheEnd() {
        open();
        envelope();
        h.ask("DATA\r\n");
        h.send("line one\r\n");
        assertEquals("line one\r\n", cleanup.single().text());
        h.send("line two\r\n");
        assertEquals("line one\r\nline two\r\n", cleanup.single().text());
        assertEquals(FakeCleanup.State.OPEN, cleanup.single().state());
        Matcher.queued(h.ask(".\r\n"));
    }

    @Test
    void everyByteValueSurvivesAndCrLfIsKept() {
        open();
        envelope();
        h.ask("DATA\r\n");
        StringBuilder body = new StringBuilder();
        for (int c = 0; c < 256; c++) {
            if (c != '\r' && c != '\n') {
                body.append((char) c);
            }
        }
        h.send(body + "\r\n.\r\n");
        byte[] expected = (body + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        assertArrayEquals(expected, cleanup.single().content());
    }

    @Test
    void aLargeMessageReachesCleanupInBoundedBlocks() {
        open();
        envelope();
        h.ask("DATA\r\n");
        String line = "x".repeat(998) + "\r\n";
        for (int i = 0; i < 1000; i++) {
            h.sendRaw(line);
        }
        Matcher.queued(h.ask(".\r\n"));
        FakeCleanup.Message m = cleanup.single();
        assertEquals(1000L * 1000, m.content().length);
        assertTrue(m.writeSizes().stream().allMatch(n -> n <= ContentDecoder.BLOCK), m.writeSizes().toString());
    }

    @Test
    void noReplyBeforeCommitReturns() {
        open();
        envelope();
        h.ask("DATA\r\n");
        h.workers.paused = true; // Cleanup is slow: nothing it was asked to do has run yet
        h.send("hello\r\n.\r\n");
        h.send("NOOP\r\n");
        h.pumpLoopOnly();
        assertEquals("", h.output());
        assertTrue(cleanup.messages().isEmpty() || cleanup.single().state() == FakeCleanup.State.OPEN);
        h.workers.paused = false;
        h.pump();
        String reply = h.output();
        assertEquals("250 2.0.0 Ok: queued as " + cleanup.single().queueId() + "\r\n250 2.0.0 Ok\r\n", reply);
    }

    @Test
    void commitIoExceptionIs451AndNothingIsClaimed() {
        cleanup.failCommit(new IOException("disk full"));
        open();
        envelope();
        h.ask("DATA\r\n");
        assertEquals("451 4.3.0 Error: queue file write error\r\n", h.ask("hello\r\n.\r\n"));
        assertEquals(FakeCleanup.State.FAILED, cleanup.single().state());
        assertTrue(cleanup.committed().isEmpty());
        assertFalse(h.log.lines.stream().anyMatch(l -> l.contains("client=")), h.log.lines.toString());
        // The transaction is gone: RCPT needs a new MAIL.
        assertEquals("503 5.5.1 Error: need MAIL command\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
    }

    @Test
    void storageShortageIs452AndNothingIsClaimed() {
        cleanup.failCommit(new org.estafeta.cleanup.InsufficientStorageException("queue file write error: No space left on device", null));
        open();
        envelope();
        h.ask("DATA\r\n");
        assertEquals("452 4.3.1 Insufficient system storage\r\n", h.ask("hello\r\n.\r\n"));
        assertTrue(cleanup.committed().isEmpty());
        assertFalse(h.log.lines.stream().anyMatch(l -> l.contains("client=")), h.log.lines.toString());
        assertEquals("503 5.5.1 Error: need MAIL command\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
    }

    @Test
    void openAndWriteFailuresAre451Too() {
        cleanup.failOpen(new IOException("no queue directory"));
        open();
        envelope();
        assertEquals("354 End data with <CR><LF>.<CR><LF>\r\n", h.ask("DATA\r\n"));
        assertEquals("451 4.3.0 Error: queue file write error\r\n", h.ask("hello\r\n.\r\n"));
        assertTrue(cleanup.messages().isEmpty());

        cleanup.failOpen(null).failWrite(3, new IOException("write error"));
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        h.ask("DATA\r\n");
        assertEquals("451 4.3.0 Error: queue file write error\r\n", h.ask("hello\r\nworld\r\n.\r\n"));
        assertEquals(FakeCleanup.State.ABORTED, cleanup.single().state());
    }

    @Test
    void cleanupRejectionIsPassedOn() {
        cleanup.reject(Reply.reject(550, "5.7.1", "Message content rejected"));
        open();
        envelope();
        h.ask("DATA\r\n");
        assertEquals("550 5.7.1 Message content rejected\r\n", h.ask("spam\r\n.\r\n"));
        assertTrue(cleanup.committed().isEmpty());
    }

    @Test
    void withoutCleanupDataIs451WhileMailAndRcptWork() {
        h.clientIp = "127.0.0.1";
        h.open();
        h.output();
        envelope();
        assertEquals("451 4.3.0 Error: queue file write error\r\n", h.ask("DATA\r\n"));
        // No 354 was sent: the message text is read as commands (Postfix does the same).
        assertEquals("250 2.0.0 Ok\r\n", h.ask("RSET\r\n"));
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        assertEquals("451 4.3.0 Error: queue file write error\r\n", h.ask("BDAT 5 LAST\r\nhello"));
        assertEquals("250 2.0.0 Ok\r\n", h.ask("NOOP\r\n"));
    }

    @Test
    void messageSizeLimitDuringDataAbortsAndAnswers552() {
        open("message_size_limit", "100");
        envelope();
        h.ask("DATA\r\n");
        String reply = h.ask(("y".repeat(50) + "\r\n").repeat(5) + ".\r\n");
        assertEquals("552 5.3.4 Error: message file too big\r\n", reply);
        assertEquals(FakeCleanup.State.ABORTED, cleanup.single().state());
        assertTrue(cleanup.single().content().length <= 100);
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
    }

    @Test
    void sizeDeclaredAtMailAboveTheLimitIsRefused() {
        open("message_size_limit", "1000");
        h.ask("EHLO c.example\r\n");
        assertEquals("552 5.3.4 Message size exceeds fixed limit\r\n", h.ask("MAIL FROM:<a@example.org> SIZE=1001\r\n"));
        assertTrue(h.log.lines.contains("info: NOQUEUE: reject: MAIL from unknown[127.0.0.1]: 552 5.3.4 Message size "
                + "exceeds fixed limit; from=<a@example.org> proto=ESMTP helo=<c.example>"), h.log.lines.toString());
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org> SIZE=1000\r\n"));
    }

    @Test
    void bdatChunksAreJoinedAndLastCommits() {
        open();
        envelope();
        assertEquals("250 2.0.0 Ok: 7 bytes\r\n", h.ask("BDAT 7\r\nHello, "));
        assertEquals("250 2.0.0 Ok: 3 bytes\r\n", h.ask("BDAT 3\r\nwor"));
        String reply = h.ask("BDAT 6 LAST\r\nld\r\n.\n");
        FakeCleanup.Message m = cleanup.single();
        assertEquals("250 2.0.0 Ok: 17 bytes queued as " + m.queueId() + "\r\n", reply);
        // BDAT content is not dot-stuffed; the unterminated last line gets its CRLF, the bare LF becomes CRLF.
        assertEquals("Hello, world\r\n.\r\n", m.text());
    }

    @Test
    void bdatIsMutuallyExclusiveWithDataAndMailRcptInsideIt() {
        open();
        envelope();
        assertEquals("250 2.0.0 Ok: 3 bytes\r\n", h.ask("BDAT 3\r\nabc"));
        assertEquals("503 5.5.1 Error: DATA after BDAT\r\n", h.ask("DATA\r\n"));
        assertEquals("503 5.5.1 Error: RCPT after BDAT\r\n", h.ask("RCPT TO:<c@example.net>\r\n"));
        assertEquals("503 5.5.1 Error: nested MAIL command\r\n", h.ask("MAIL FROM:<x@example.org>\r\n"));
        Matcher.queued(h.ask("BDAT 3 LAST\r\ndef"));
        assertEquals("abcdef\r\n", cleanup.single().text());
    }

    @Test
    void bdatWithoutRecipientsIsSkippedAndLaterChunksAreDiscarded() {
        open();
        h.ask("EHLO c.example\r\n");
        // The chunk's bytes are read and thrown away, so they are not taken as commands.
        assertEquals("503 5.5.1 Error: need RCPT command\r\n", h.ask("BDAT 6\r\nNOOP\r\n"));
        assertEquals("551 5.0.0 Discarded 4 bytes after earlier error\r\n", h.ask("BDAT 4\r\nQUIT"));
        assertEquals("503 5.5.1 Error: MAIL after BDAT\r\n", h.ask("MAIL FROM:<x@example.org>\r\n"));
        assertEquals("551 5.0.0 Discarded 2 bytes after earlier error\r\n", h.ask("BDAT 2 LAST\r\nxy"));
        // After LAST the error state is gone.
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
        assertTrue(cleanup.messages().isEmpty());
    }

    @Test
    void nullBdatChunkIsRefusedAndPoisonsTheTransaction() {
        open();
        envelope();
        assertEquals("551 5.7.1 Null BDAT request\r\n", h.ask("BDAT 0\r\n"));
        assertTrue(h.log.lines.contains("warning: NOQUEUE: null BDAT request from unknown[127.0.0.1]"), h.log.lines.toString());
        assertEquals("551 5.0.0 Discarded 3 bytes after earlier error\r\n", h.ask("BDAT 3 LAST\r\nabc"));
        assertTrue(cleanup.committed().isEmpty());
    }

    @Test
    void bdatSyntaxErrorHangsUp() {
        open();
        envelope();
        assertEquals("521 5.5.4 Syntax: BDAT count [LAST]\r\n", h.ask("BDAT x\r\n"));
        assertFalse(h.channel.isOpen());
    }

    @Test
    void bdatChunkOverTheSizeLimitIs552AndTheRestDiscarded() {
        open("message_size_limit", "10");
        envelope();
        assertEquals("250 2.0.0 Ok: 8 bytes\r\n", h.ask("BDAT 8\r\n12345678"));
        assertEquals("552 5.3.4 Chunk exceeds message size limit\r\n", h.ask("BDAT 5\r\nabcde"));
        assertEquals("551 5.0.0 Discarded 1 bytes after earlier error\r\n", h.ask("BDAT 1 LAST\r\nz"));
        assertTrue(cleanup.committed().isEmpty());
    }

    @Test
    void rsetMidTransactionAbortsTheMessageInCleanup() {
        open();
        envelope();
        h.ask("BDAT 3\r\nabc");
        assertEquals("250 2.0.0 Ok\r\n", h.ask("RSET\r\n"));
        assertEquals(FakeCleanup.State.ABORTED, cleanup.single().state());
        assertEquals("503 5.5.1 Error: need MAIL command\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
    }

    @Test
    void clientThatDisappearsDuringDataAbortsAndIsLoggedWithTheByteCount() {
        open();
        envelope();
        h.ask("DATA\r\n");
        h.send("0123456789\r\n");
        h.channel.close();
        h.pump();
        assertEquals(FakeCleanup.State.ABORTED, cleanup.single().state());
        assertTrue(h.log.lines.contains("info: lost connection after DATA (12 bytes) from unknown[127.0.0.1]"),
                h.log.lines.toString());
    }

    @Test
    void hangingUpRightAfterTheMessageIsNotLoggedAsLostConnection() {
        open();
        envelope();
        h.ask("DATA\r\n");
        queuedReply();
        h.channel.close();
        h.pump();
        assertFalse(h.log.lines.stream().anyMatch(l -> l.contains("lost connection")), h.log.lines.toString());
        assertTrue(h.log.lines.get(h.log.lines.size() - 1).startsWith("info: disconnect from unknown[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 commands=4"),
                h.log.lines.toString());
    }

    private void queuedReply() {
        Matcher.queued(h.ask("hi\r\n.\r\n"));
    }

    /** Small helpers for replies. */
    static final class Matcher {
        static void queued(String reply) {
            assertTrue(reply.matches("250 2\\.0\\.0 Ok: (\\d+ bytes )?queued as [0-9A-F]+\r\n"), reply);
        }
    }
}
