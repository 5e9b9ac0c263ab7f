package org.estafeta.transport.smtp.internal;

import static org.estafeta.transport.smtp.internal.Fixtures.context;
import static org.estafeta.transport.smtp.internal.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The smtp client against scripted in-process servers on loopback ports 28000-28999. */
class SmtpClientTest {
    private static final List<String> ESMTP = List.of("PIPELINING", "SIZE 10240000", "8BITMIME", "DSN",
            "ENHANCEDSTATUSCODES");

    private final Fixtures.MapResolver dns = new Fixtures.MapResolver();
    private final RecordingLogger log = new RecordingLogger("smtp");
    private SmtpClient smtp;
    private SmtpClient lmtp;

    @BeforeEach
    void start() {
        smtp = new SmtpClient(false, dns, log);
        lmtp = new SmtpClient(true, dns, log);
    }

    @AfterEach
    void stop() {
        smtp.close();
        lmtp.close();
    }

    private static void assertResult(RecipientResult r, Status status, int code, String dsn, String text, String relay) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(new Reply(code, dsn, text), r.reply());
        assertEquals(relay, r.relay());
    }

    @Test
    void pipelinedGroupAndPerRecipientResults() throws Exception {
        // replies only after the whole group arrived: a client that waits for the MAIL reply would time out
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> {
            p.reply("220 scripted.test ESMTP");
            p.line();
            p.reply("250-scripted.test", "250-PIPELINING", "250 8BITMIME");
            List<String> group = new java.util.ArrayList<>();
            for (String l = p.line(); l != null; l = p.line()) {
                group.add(l);
                if (l.equals("DATA")) {
                    break;
                }
            }
            p.reply("250 2.1.0 Ok", "250 2.1.5 Ok",
                    "550 5.1.1 <bad@example.com>: Recipient address rejected: User unknown in virtual mailbox table",
                    "450 4.2.0 <later@example.com>: Recipient address rejected: Greylisted", "354 go ahead");
            p.data();
            p.reply("250 2.0.0 Ok: queued as 4Xyz");
            p.line();
        })) {
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), "good@example.com", "bad@example.com",
                    "later@example.com"), context());
            String relay = "127.0.0.1[127.0.0.1]:" + s.port();
            assertResult(r.get(0), Status.DELIVERED, 250, "2.0.0", "250 2.0.0 Ok: queued as 4Xyz", relay);
            assertResult(r.get(1), Status.BOUNCED, 550, "5.1.1", "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 "
                    + "<bad@example.com>: Recipient address rejected: User unknown in virtual mailbox table "
                    + "(in reply to RCPT TO command)", relay);
            assertResult(r.get(2), Status.DEFERRED, 450, "4.2.0", "host 127.0.0.1[127.0.0.1] said: 450 4.2.0 "
                    + "<later@example.com>: Recipient address rejected: Greylisted (in reply to RCPT TO command)",
                    relay);
            assertEquals(List.of("MAIL FROM:<sender@example.org>", "RCPT TO:<good@example.com>",
                    "RCPT TO:<bad@example.com>", "RCPT TO:<later@example.com>", "DATA"), linesCopy(s).subList(1, 6));
        }
    }

    @Test
    void withoutPipeliningCommandsWaitForReplies() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", List.of("SIZE"),
                l -> l.startsWith("RCPT TO:<b") ? "550 5.1.1 no such user" : null))) {
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), "a@example.com", "b@example.com"), context());
            assertEquals(Status.DELIVERED, r.get(0).status());
            assertEquals(Status.BOUNCED, r.get(1).status());
            assertEquals(List.of("MAIL FROM:<sender@example.org> SIZE=" + Fixtures.MESSAGE.length()),
                    s.commands("MAIL"));
        }
    }

    @Test
    void dsnParametersOnlyWhenAnnounced() throws Exception {
        Map<String, String> mail = Map.of("RET", "HDRS", "ENVID", "id+1=x", "BODY", "8BITMIME");
        Map<String, Map<String, String>> rcpt = Map.of("a@example.com",
                Map.of("NOTIFY", "SUCCESS,FAILURE", "ORCPT", "rfc822;A+b@example.com"));
        try (ScriptedServer with = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", ESMTP, null));
                ScriptedServer without = new ScriptedServer("127.0.0.1",
                        p -> p.serve("220 x ESMTP", List.of("PIPELINING"), null))) {
            for (ScriptedServer s : List.of(with, without)) {
                List<RecipientResult> r = smtp.deliver(request(s.nexthop(), Fixtures.content(Fixtures.MESSAGE), mail,
                        rcpt, "a@example.com"), context());
                assertEquals(Status.DELIVERED, r.get(0).status(), r.toString());
            }
            int size = Fixtures.MESSAGE.length();
            assertEquals(List.of("MAIL FROM:<sender@example.org> SIZE=" + size + " BODY=8BITMIME ENVID=id+2B1+3Dx RET=HDRS"),
                    with.commands("MAIL"));
            assertEquals(List.of("RCPT TO:<a@example.com> ORCPT=rfc822;A+2Bb@example.com NOTIFY=SUCCESS,FAILURE"),
                    with.commands("RCPT"));
            assertEquals(List.of("MAIL FROM:<sender@example.org>"), without.commands("MAIL"));
            assertEquals(List.of("RCPT TO:<a@example.com>"), without.commands("RCPT"));
        }
    }

    @Test
    void contentIsDotStuffedWithCrlfAndLongLinesBroken() throws Exception {
        String content = "Subject: dots\r\n\r\n.hidden\r\n..two\r\nbare\nlf\r\nmid.dot\r\n" + "x".repeat(25) + "\r\n.";
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", ESMTP, null))) {
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), Fixtures.content(content), Map.of(), Map.of(),
                    "a@example.com"), context("smtp_line_length_limit", "10"));
            assertEquals(Status.DELIVERED, r.get(0).status(), r.toString());
            assertEquals("Subject: d\r\n ots\r\n\r\n..hidden\r\n...two\r\nbare\r\nlf\r\nmid.dot\r\n"
                    + "xxxxxxxxxx\r\n xxxxxxxxx\r\n xxxxxx\r\n..\r\n", s.messages.get(0));
        }
    }

    @Test
    void silentGreetingTimesOut() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })) {
            long t0 = System.nanoTime();
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), "a@example.com"),
                    context("smtp_helo_timeout", "1s"));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertResult(r.get(0), Status.DEFERRED, 450, "4.4.2", "conversation with 127.0.0.1[127.0.0.1] timed out "
                    + "while receiving the initial server greeting", "127.0.0.1[127.0.0.1]:" + s.port());
            assertTrue(ms >= 900 && ms < 4000, "took " + ms + " ms");
        } finally {
            release.countDown();
        }
    }

    @Test
    void stalledBodyTimesOut() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> {
            p.serve("220 x ESMTP", List.of("PIPELINING"), l -> {
                if (l.equals("DATA")) {
                    try {
                        p.reply("354 go ahead");
                        release.await(60, TimeUnit.SECONDS); // never reads the content
                    } catch (Exception e) {
                        Thread.currentThread().interrupt();
                    }
                    return "";
                }
                return null;
            });
        })) {
            long size = 200L * 1024 * 1024; // far more than socket buffers; never held in memory
            InputStream endless = new InputStream() {
                long left = size;

                @Override
                public int read() {
                    return left-- > 0 ? 'a' : -1;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = (int) Math.min(len, left);
                    java.util.Arrays.fill(b, off, off + n, (byte) 'a');
                    left -= n;
                    return n;
                }
            };
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), Fixtures.content(() -> endless, size),
                    Map.of(), Map.of(), "a@example.com"), context("smtp_data_xfer_timeout", "1s"));
            assertResult(r.get(0), Status.DEFERRED, 450, "4.4.2", "conversation with 127.0.0.1[127.0.0.1] timed out "
                    + "while sending message body", "127.0.0.1[127.0.0.1]:" + s.port());
        } finally {
            release.countDown();
        }
    }

    @Test
    void silentDotReplyTimesOut() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1",
                p -> p.serve("220 x ESMTP", List.of("PIPELINING"), l -> l.equals(".") ? "" : null))) {
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), "a@example.com"),
                    context("smtp_data_done_timeout", "1s"));
            assertEquals("conversation with 127.0.0.1[127.0.0.1] timed out while sending end of data -- message may "
                    + "be sent more than once", r.get(0).reply().text());
            assertEquals(Status.DEFERRED, r.get(0).status());
        }
    }

    @Test
    void cachedConnectionIsReusedAfterRset() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", ESMTP, null))) {
            var ctx = context("smtp_connection_cache_on_demand", "yes", "smtp_connection_cache_time_limit", "10s");
            assertEquals(Status.DELIVERED, smtp.deliver(request(s.nexthop(), "a@example.com"), ctx).get(0).status());
            assertEquals(1, smtp.cachedConnections());
            assertEquals(Status.DELIVERED, smtp.deliver(request(s.nexthop(), "b@example.com"), ctx).get(0).status());
            assertEquals(1, s.connections.get(), "one TCP connection for both");
            assertEquals(1, s.commands("EHLO").size());
            assertEquals(List.of("RSET"), s.commands("RSET"));
            assertTrue(s.commands("QUIT").isEmpty(), "kept open");
        }
    }

    @Test
    void idleCachedConnectionIsClosedAfterTheCacheTimeLimit() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", ESMTP, null))) {
            var ctx = context("smtp_connection_cache_on_demand", "yes", "smtp_connection_cache_time_limit", "1s");
            assertEquals(Status.DELIVERED, smtp.deliver(request(s.nexthop(), "a@example.com"), ctx).get(0).status());
            assertEquals(1, smtp.cachedConnections());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (s.commands("QUIT").isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(List.of("QUIT"), s.commands("QUIT"));
            assertEquals(0, smtp.cachedConnections());
        }
    }

    @Test
    void messageLargerThanTheServersSizeIsBounced() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", List.of("SIZE 20"), null))) {
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), "a@example.com"), context());
            assertResult(r.get(0), Status.BOUNCED, 550, "5.3.4", "message size " + Fixtures.MESSAGE.length()
                    + " exceeds size limit 20 of server 127.0.0.1[127.0.0.1]", "127.0.0.1[127.0.0.1]:" + s.port());
            assertTrue(s.commands("MAIL").isEmpty());
        }
    }

    @Test
    void mailFromRejectionAppliesToTheWholeBatch() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", ESMTP,
                l -> l.startsWith("MAIL") ? "553 5.7.1 <sender@example.org>: Sender address rejected: not owned" : null))) {
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), "a@example.com", "b@example.com"), context());
            for (RecipientResult x : r) {
                assertEquals(Status.BOUNCED, x.status());
                assertEquals(new Reply(553, "5.7.1", "host 127.0.0.1[127.0.0.1] said: 553 5.7.1 <sender@example.org>: "
                        + "Sender address rejected: not owned (in reply to MAIL FROM command)"), x.reply());
            }
        }
    }

    @Test
    void replyWithoutEnhancedStatusGetsTheClassDefault() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", List.of(),
                l -> l.startsWith("RCPT") ? "554 no" : l.equals(".") ? "250 accepted" : null))) {
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), "a@example.com"), context());
            assertEquals(new Reply(554, "5.0.0", "host 127.0.0.1[127.0.0.1] said: 554 no (in reply to RCPT TO command)"),
                    r.get(0).reply());
        }
    }

    @Test
    void ehloRejectedFallsBackToHelo() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x", List.of(),
                l -> l.startsWith("EHLO") ? "502 5.5.2 Error: command not recognized" : null))) {
            List<RecipientResult> r = smtp.deliver(request(s.nexthop(), "a@example.com"), context());
            assertEquals(Status.DELIVERED, r.get(0).status());
            assertEquals(List.of("HELO gateway.estafeta.test"), s.commands("HELO"));
        }
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x", ESMTP, null))) {
            smtp.deliver(request(s.nexthop(), "a@example.com"),
                    context("smtp_never_send_ehlo", "yes", "smtp_helo_name", "relay.example.org"));
            assertEquals(List.of("HELO relay.example.org"), s.commands("HELO"));
            assertTrue(s.commands("EHLO").isEmpty());
        }
    }

    @Test
    void fallbackToTheNextMxAfterConnectionFailureAnd5xxGreeting() throws Exception {
        try (ScriptedServer good = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", ESMTP, null));
                ScriptedServer rude = new ScriptedServer("127.0.0.3", good.port(),
                        p -> p.serve("554 5.7.1 go away", ESMTP, null))) {
            dns.mx("example.test", 10, "mx1.example.test").mx("example.test", 20, "mx2.example.test")
                    .mx("example.test", 30, "mx3.example.test")
                    .a("mx1.example.test", "127.0.0.2") // nothing listens: connection refused
                    .a("mx2.example.test", "127.0.0.3").a("mx3.example.test", "127.0.0.1");
            List<RecipientResult> r = smtp.deliver(request("example.test:" + good.port(), "a@example.com"), context());
            assertResult(r.get(0), Status.DELIVERED, 250, "2.0.0", "250 2.0.0 Ok: queued as TEST1",
                    "mx3.example.test[127.0.0.1]:" + good.port());
            assertTrue(log.lines().contains("INFO connect to mx1.example.test[127.0.0.2]:" + good.port()
                    + ": Connection refused"), log.lines().toString());
            assertTrue(log.lines().contains("INFO 4QUEUEID: host mx2.example.test[127.0.0.3] refused to talk to me: "
                    + "554 5.7.1 go away"), log.lines().toString());
        }
    }

    @Test
    void allAddressesRefusedDefers() throws Exception {
        int port = ScriptedServer.freePort();
        dns.mx("example.test", 10, "mx1.example.test").a("mx1.example.test", "127.0.0.1");
        List<RecipientResult> r = smtp.deliver(request("example.test:" + port, "a@example.com"), context());
        assertResult(r.get(0), Status.DEFERRED, 450, "4.4.1",
                "connect to mx1.example.test[127.0.0.1]:" + port + ": Connection refused", "none");
    }

    @Test
    void softRcptFailureOnThePrimaryTriesTheBackup() throws Exception {
        try (ScriptedServer primary = new ScriptedServer("127.0.0.4", p -> p.serve("220 x ESMTP", ESMTP,
                l -> l.startsWith("RCPT") ? "451 4.3.0 try later" : null));
                ScriptedServer backup = new ScriptedServer("127.0.0.5", primary.port(),
                        p -> p.serve("220 x ESMTP", ESMTP, null))) {
            dns.mx("example.test", 10, "mx1.example.test").mx("example.test", 20, "mx2.example.test")
                    .a("mx1.example.test", "127.0.0.4").a("mx2.example.test", "127.0.0.5");
            List<RecipientResult> r = smtp.deliver(request("example.test:" + primary.port(), "a@example.com"), context());
            assertEquals(Status.DELIVERED, r.get(0).status());
            assertEquals("mx2.example.test[127.0.0.5]:" + primary.port(), r.get(0).relay());
        }
    }

    @Test
    void fallbackRelayAfterTheDestinationFails() throws Exception {
        try (ScriptedServer relay = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", ESMTP, null))) {
            List<RecipientResult> r = smtp.deliver(request("nonexistent.test", "a@example.com"),
                    context("smtp_fallback_relay", relay.nexthop()));
            assertEquals(Status.DELIVERED, r.get(0).status(), r.toString());
            assertEquals("127.0.0.1[127.0.0.1]:" + relay.port(), r.get(0).relay());
        }
    }

    @Test
    void dnsFailures() throws Exception {
        List<RecipientResult> nx = smtp.deliver(request("nonexistent.test", "a@example.com"), context());
        assertResult(nx.get(0), Status.BOUNCED, 550, "5.4.4", "Host or domain name not found. Name service error "
                + "for name=nonexistent.test type=A: Host not found", "none");
        dns.failing.add("broken.test");
        List<RecipientResult> temp = smtp.deliver(request("broken.test", "a@example.com"), context());
        assertResult(temp.get(0), Status.DEFERRED, 450, "4.4.3", "Host or domain name not found. Name service error "
                + "for name=broken.test type=MX: Host not found, try again", "none");
        dns.mx("nullmx.test", 0, ".");
        assertEquals(new Reply(550, "5.1.0", "Domain nullmx.test does not accept mail (nullMX)"),
                smtp.deliver(request("nullmx.test", "a@example.com"), context()).get(0).reply());
        // a relayhost that does not resolve is a configuration problem: deferred, not bounced
        List<RecipientResult> rh = smtp.deliver(request("[relay.nonexistent.test]", "a@example.com"),
                context("relayhost", "[relay.nonexistent.test]"));
        assertEquals(Status.DEFERRED, rh.get(0).status());
        assertEquals("4.3.5", rh.get(0).reply().enhancedStatus());
    }

    @Test
    void nativeLookupSkipsMx() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", ESMTP, null))) {
            // no DNS data at all: "localhost" is found by the system resolver only
            List<RecipientResult> r = smtp.deliver(request("localhost:" + s.port(), "a@example.com"),
                    context("disable_dns_lookups", "yes"));
            assertEquals(Status.DELIVERED, r.get(0).status(), r.toString());
            assertEquals("localhost[127.0.0.1]:" + s.port(), r.get(0).relay());
        }
    }

    @Test
    void lmtpHasOneReplyPerRecipientAfterTheDot() throws Exception {
        try (ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x LMTP", List.of("PIPELINING",
                "ENHANCEDSTATUSCODES"), l -> l.equals(".")
                        ? "250 2.0.0 <a@example.com> Saved\n452 4.2.2 <b@example.com> Mailbox full" : null))) {
            List<RecipientResult> r = lmtp.deliver(request("inet:127.0.0.1:" + s.port(), "a@example.com",
                    "b@example.com"), context("lmtp_lhlo_name", "lhlo.example.org"));
            String relay = "127.0.0.1[127.0.0.1]:" + s.port();
            assertResult(r.get(0), Status.DELIVERED, 250, "2.0.0", "250 2.0.0 <a@example.com> Saved", relay);
            assertResult(r.get(1), Status.DEFERRED, 452, "4.2.2", "host 127.0.0.1[127.0.0.1] said: 452 4.2.2 "
                    + "<b@example.com> Mailbox full (in reply to end of DATA command)", relay);
            assertEquals(List.of("LHLO lhlo.example.org"), s.commands("LHLO"));
        }
    }

    @Test
    void settingsTakePostfixDefaultsAndLmtpNames() {
        ClientSettings d = ClientSettings.from(new org.estafeta.testing.FakePluginContext(), false);
        assertEquals(java.time.Duration.ofSeconds(300), d.heloTimeout());
        assertEquals(java.time.Duration.ofSeconds(30), d.connectTimeout());
        assertEquals(5, d.mxAddressLimit());
        assertEquals(2, d.mxSessionLimit());
        assertEquals("localhost", d.heloName());
        assertTrue(d.dnsLookup());
        ClientSettings l = ClientSettings.from(context("lmtp_lhlo_timeout", "2m", "lmtp_connect_timeout", "0s",
                "smtp_helo_timeout", "1s", "disable_dns_lookups", "yes"), true);
        assertEquals(java.time.Duration.ofSeconds(120), l.heloTimeout());
        assertEquals(java.time.Duration.ZERO, l.connectTimeout());
        assertTrue(l.dnsLookup(), "disable_dns_lookups is an smtp parameter");
        assertTrue(!ClientSettings.from(context("disable_dns_lookups", "yes"), false).dnsLookup());
    }

    @Test
    void badParameterDefersWithAConfigurationError() {
        List<RecipientResult> r = smtp.deliver(request("[127.0.0.1]:28999", "a@example.com"),
                context("smtp_helo_timeout", "soon"));
        assertResult(r.get(0), Status.DEFERRED, 451, "4.3.5", "Server configuration error", "none");
        assertTrue(log.lines().contains("WARN parameter smtp_helo_timeout: bad time value or unit: soon"),
                log.lines().toString());
    }

    /** The server thread may still be adding lines (QUIT, RSET): compare a copy taken under the list's lock. */
    private static List<String> linesCopy(ScriptedServer s) {
        synchronized (s.lines) {
            return new java.util.ArrayList<>(s.lines);
        }
    }
}
