package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateHandler;

class SmtpSessionTest {
    private static final String CLIENT = "unknown[192.0.2.10]";

    private final RecordingLog log = new RecordingLog();
    private EmbeddedChannel channel;

    @AfterEach
    void tearDown() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private static SmtpdSettings settings(String... params) {
        return SmtpdSettings.from(FakeSnapshot.inet("smtp", "-"), Defaults.of(params));
    }

    /** A session as SmtpdInstance builds it, on an embedded channel whose client is 192.0.2.10. */
    private EmbeddedChannel open(SmtpdSettings settings) throws Exception {
        channel = new EmbeddedChannel(false, false,
                new IdleStateHandler(settings.timeoutSeconds(), 0, 0, TimeUnit.SECONDS),
                new SmtpLineDecoder(settings.lineLengthLimit()),
                new SmtpSession(settings, log)) {
            @Override
            protected SocketAddress remoteAddress0() {
                return new InetSocketAddress("192.0.2.10", 40001);
            }
        };
        channel.register();
        channel.freezeTime();
        return channel;
    }

    private EmbeddedChannel open() throws Exception {
        return open(settings("myhostname", "mx.example.org"));
    }

    private void send(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    /** Everything the server wrote since the last call, each write separately. */
    private List<String> writes() {
        List<String> out = new java.util.ArrayList<>();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null) {
            out.add(buf.toString(StandardCharsets.UTF_8));
            buf.release();
        }
        return out;
    }

    private String output() {
        return String.join("", writes());
    }

    @Test
    void greetsWithTheBannerBuiltFromMyhostnameAndLogsTheConnection() throws Exception {
        open();
        assertEquals("220 mx.example.org ESMTP Estafeta\r\n", output());
        assertEquals(List.of("info: connect from " + CLIENT), log.lines);
    }

    @Test
    void usesSmtpdBannerAsConfigured() throws Exception {
        open(settings("myhostname", "mx.example.org", "smtpd_banner", "relay.example.net ESMTP ready"));
        assertEquals("220 relay.example.net ESMTP ready\r\n", output());
    }

    @Test
    void ehloListsOnlyWhatIsImplementedAndQuitClosesWithPostfixCounters() throws Exception {
        open();
        writes();
        send("EHLO client.example.com\r\n");
        assertEquals("250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n", output());
        send("QUIT\r\n");
        assertEquals("221 2.0.0 Bye\r\n", output());
        assertFalse(channel.isOpen());
        assertEquals(List.of(
                "info: connect from " + CLIENT,
                "info: disconnect from " + CLIENT + " ehlo=1 quit=1 commands=2"), log.lines);
    }

    @Test
    void heloNoopRsetAnswerAsPostfixAndCommandsAreCaseInsensitive() throws Exception {
        open();
        writes();
        send("helo client.example.com\r\n");
        assertEquals("250 mx.example.org\r\n", output());
        send("NoOp\r\n");
        assertEquals("250 2.0.0 Ok\r\n", output());
        send("RSET\r\n");
        assertEquals("250 2.0.0 Ok\r\n", output());
        send("RSET now\r\n");
        assertEquals("501 5.5.4 Syntax: RSET\r\n", output());
        send("HELO\r\n");
        assertEquals("501 Syntax: HELO hostname\r\n", output());
        send("EHLO   \r\n");
        assertEquals("501 Syntax: EHLO hostname\r\n", output());
        channel.close();
        assertEquals("info: disconnect from " + CLIENT + " helo=1/2 ehlo=0/1 rset=1/2 noop=1 commands=3/6",
                log.lines.get(log.lines.size() - 1));
    }

    @Test
    void unknownCommandsAndEmptyLinesGetPostfixReplies() throws Exception {
        open();
        writes();
        send("FOO bar\r\n");
        assertEquals("500 5.5.2 Error: command not recognized\r\n", output());
        send("\r\n");
        assertEquals("500 5.5.2 Error: bad syntax\r\n", output());
        send("  \t \r\n");
        assertEquals("500 5.5.2 Error: bad syntax\r\n", output());
        // A NUL ends the line, as in Postfix's C strings.
        send("\u0000NOOP\r\n");
        assertEquals("500 5.5.2 Error: bad syntax\r\n", output());
        send("NOOP\u0000garbage\r\n");
        assertEquals("250 2.0.0 Ok\r\n", output());
        channel.close();
        assertEquals(List.of(
                "info: connect from " + CLIENT,
                "info: lost connection after NOOP from " + CLIENT,
                "info: disconnect from " + CLIENT + " noop=1 unknown=0/4 commands=1/5"), log.lines);
    }

    @Test
    void httpRequestIsAnsweredWithPostfixsGoodbyeAndClosed() throws Exception {
        open();
        writes();
        send("GET / HTTP/1.0\r\nHost: mx.example.org\r\n\r\n");
        assertEquals("221 2.7.0 Error: I can break rules, too. Goodbye.\r\n", output());
        assertFalse(channel.isOpen());
        assertEquals(List.of(
                "info: connect from " + CLIENT,
                "warning: non-SMTP command from " + CLIENT + ": GET / HTTP/1.0",
                "info: disconnect from " + CLIENT + " unknown=0/1 commands=0/1"), log.lines);
    }

    @Test
    void messageHeaderOrBinaryGarbageInsteadOfACommandEndsTheSession() throws Exception {
        open();
        writes();
        send("Subject: hello\r\n");
        assertEquals("221 2.7.0 Error: I can break rules, too. Goodbye.\r\n", output());
        assertEquals("warning: non-SMTP command from " + CLIENT + ": Subject: hello", log.lines.get(1));

        log.lines.clear();
        channel.finishAndReleaseAll();
        open();
        writes();
        send("\u00ff\u0001\\x\tgarbage\r\n");
        // With smtputf8_enable = yes (the default), Postfix first refuses what is not UTF-8.
        assertEquals("500 5.5.2 Error: bad UTF-8 syntax\r\n", output());
        channel.finishAndReleaseAll(); // this session was still open: its disconnect lines come first
        log.lines.clear();
        open(settings("myhostname", "mx.example.org", "smtputf8_enable", "no"));
        writes();
        send("\u00ff\u0001\\x\tgarbage\r\n");
        assertEquals("221 2.7.0 Error: I can break rules, too. Goodbye.\r\n", output());
        assertEquals("warning: non-SMTP command from " + CLIENT + ": \\377\\001\\\\x\\tgarbage", log.lines.get(1));
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrderAndNothingAfterQuit() throws Exception {
        // NOOP ends an RFC 2920 command group: with Postfix 3.9's default smtpd_forbid_unauth_pipelining = yes,
        // QUIT waiting behind it is a protocol violation (see HostileInputTest); here the check is off.
        open(settings("myhostname", "mx.example.org", "smtpd_forbid_unauth_pipelining", "no"));
        writes();
        send("EHLO a.example\r\n");
        output();
        send("MAIL FROM:<a@example.org>\r\nRSET\r\nNOOP\r\nQUIT\r\nNOOP\r\n");
        assertEquals("250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n", output());
        assertFalse(channel.isOpen());
        assertTrue(log.lines.get(log.lines.size() - 1).endsWith(" ehlo=1 mail=1 rset=1 noop=1 quit=1 commands=5"),
                log.lines.toString());
    }

    @Test
    void aCommandSplitOverSeveralPacketsAndBareLfAreAccepted() throws Exception {
        open();
        writes();
        send("NO");
        assertEquals("", output());
        send("OP\r");
        assertEquals("", output());
        send("\n");
        assertEquals("250 2.0.0 Ok\r\n", output());
        send("NOOP\n");
        assertEquals("250 2.0.0 Ok\r\n", output());
    }

    @Test
    void clientThatDisconnectsIsLoggedAsLostConnectionAfterTheLastCommand() throws Exception {
        open();
        send("EHLO a.example\r\n");
        channel.close();
        assertEquals(List.of(
                "info: connect from " + CLIENT,
                "info: lost connection after EHLO from " + CLIENT,
                "info: disconnect from " + CLIENT + " ehlo=1 commands=1"), log.lines);
    }

    @Test
    void silentClientGetsTheTimeoutReplyAfterSmtpdTimeout() throws Exception {
        open(settings("myhostname", "mx.example.org", "smtpd_timeout", "2m"));
        writes();
        channel.advanceTimeBy(119, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertTrue(channel.isOpen());
        send("NOOP\r\n");
        assertEquals("250 2.0.0 Ok\r\n", output());
        // The clock restarts with each read: 119 s after NOOP there is still no timeout.
        channel.advanceTimeBy(119, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertTrue(channel.isOpen());
        assertEquals("", output());
        channel.advanceTimeBy(2, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertEquals("421 4.4.2 mx.example.org Error: timeout exceeded\r\n", output());
        assertFalse(channel.isOpen());
        assertEquals(List.of(
                "info: connect from " + CLIENT,
                "info: timeout after NOOP from " + CLIENT,
                "info: disconnect from " + CLIENT + " noop=1 commands=1"), log.lines);
    }

    @Test
    void defaultTimeoutIs300Seconds() throws Exception {
        open();
        writes();
        channel.advanceTimeBy(299, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertTrue(channel.isOpen());
        channel.advanceTimeBy(2, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertEquals("421 4.4.2 mx.example.org Error: timeout exceeded\r\n", output());
        assertTrue(log.lines.contains("info: timeout after CONNECT from " + CLIENT));
    }

    @Test
    void overlongCommandIsSkippedAnsweredAndLoggedAndTheSessionGoesOn() throws Exception {
        open(settings("myhostname", "mx.example.org", "line_length_limit", "512"));
        writes();
        String longLine = "MAIL FROM:<" + "x".repeat(600) + "@example.com>";
        send(longLine + "\r\nNOOP\r\n");
        assertEquals("500 5.5.2 mx.example.org Error: command too long\r\n250 2.0.0 Ok\r\n", output());
        assertEquals("warning: " + CLIENT + ": request longer than 512: MAIL FROM:<xxxxxxxxxxxxxxxxxxx...", log.lines.get(1));
        // The overlong MAIL was never executed: only NOOP is counted.
        send("QUIT\r\n");
        assertTrue(log.lines.get(log.lines.size() - 1).endsWith(" noop=1 quit=1 commands=2"), log.lines.toString());
    }

    @Test
    void endlessLineWithoutNewlineIsDiscardedAsItArrives() throws Exception {
        open(settings("myhostname", "mx.example.org", "line_length_limit", "512"));
        writes();
        for (int i = 0; i < 1000; i++) {
            send("A".repeat(1000));
        }
        assertEquals("", output());
        assertTrue(channel.isOpen());
        send("\r\nNOOP\r\n");
        assertEquals("500 5.5.2 mx.example.org Error: command too long\r\n250 2.0.0 Ok\r\n", output());
    }

    @Test
    void sessionKeepsItsSettingsAndTracksHelo() throws Exception {
        open();
        SmtpSession session = channel.pipeline().get(SmtpSession.class);
        assertNull(session.heloName());
        send("EHLO client.example.com\r\n");
        assertEquals("client.example.com", session.heloName());
        assertEquals("ESMTP", session.protocol());
        send("HELO other.example\r\n");
        assertEquals("SMTP", session.protocol());
        send("FOO\r\nBAR\r\n");
        assertEquals(2, session.errorCount());
    }
}
