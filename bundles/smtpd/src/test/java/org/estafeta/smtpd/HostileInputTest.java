package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.estafeta.master.daemon.DaemonInstance;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The hostile-input battery of issue 3: each attack gets Postfix's answer, the session (or the server) goes on where
 * Postfix goes on, and memory stays bounded.
 */
class HostileInputTest {

    /** On an embedded channel: exact replies and log lines. */
    @Nested
    class Embedded {
        private final Harness h = new Harness();
        private final FakeCleanup cleanup = new FakeCleanup();

        @AfterEach
        void close() {
            h.close();
        }

        private void open(String... params) {
            h.cleanup = cleanup;
            h.open(params);
            h.output();
        }

        /** 192.0.2.10 (outside mynetworks) has no relay rights without an engine; use mynetworks for transactions. */
        private void openTrusted(String... params) {
            h.clientIp = "127.0.0.2";
            String[] all = new String[params.length + 4];
            all[0] = "mynetworks";
            all[1] = "127.0.0.2/32";
            all[2] = "smtpd_forbid_bare_newline_exclusions";
            all[3] = "";
            System.arraycopy(params, 0, all, 4, params.length);
            open(all);
        }

        private void transaction() {
            assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
            assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
            assertEquals("354 End data with <CR><LF>.<CR><LF>\r\n", h.ask("DATA\r\n"));
        }

        @Test
        void overlongCommandLinesAreRefusedAndTheSessionGoesOn() {
            open("line_length_limit", "1000");
            assertEquals("500 5.5.2 mx.example.org Error: command too long\r\n",
                    h.ask("NOOP " + "a".repeat(5000) + "\r\n"));
            assertEquals("250 2.0.0 Ok\r\n", h.ask("NOOP\r\n"));
            // Exactly at the limit (CRLF straddling it) is still a command.
            assertEquals("501 5.5.4 Syntax: NOOP\r\n", h.ask("NOOP " + "b".repeat(994) + "\r\n"));
        }

        @Test
        void overlongContentLinesAreContentNotErrors() {
            openTrusted();
            h.ask("EHLO c.example\r\n");
            transaction();
            String line = "z".repeat(200_000);
            TransactionTest.Matcher.queued(h.ask(line + "\r\n.\r\n"));
            assertEquals(line + "\r\n", cleanup.single().text());
        }

        @Test
        void binaryGarbageAndNulBytesNeverCrashTheSession() {
            open("smtputf8_enable", "no");
            byte[] junk = new byte[64 * 1024];
            new Random(42).nextBytes(junk);
            h.channel.writeInbound(io.netty.buffer.Unpooled.wrappedBuffer(junk));
            h.pump();
            String out = h.output();
            // Either the first line was taken as a non-SMTP command (221) or it drew a 5xx and the errors
            // accumulated; in every case the session ends, or keeps answering, without an exception.
            assertTrue(out.isEmpty() || out.matches("(?s)([0-9]{3}[ -][^\r]*\r\n)+"), out);
            assertFalse(h.log.lines.stream().anyMatch(l -> l.contains("unexpected error")), h.log.lines.toString());
        }

        @Test
        void nulBytesInsideContentArePassedOnUnchanged() {
            openTrusted();
            h.ask("EHLO c.example\r\n");
            transaction();
            TransactionTest.Matcher.queued(h.ask("a\0b\r\n\0\r\n.\r\n"));
            assertEquals("a\0b\r\n\0\r\n", cleanup.single().text());
        }

        @Test
        void talkingBeforeTheGreetingIsAProtocolViolation() {
            Harness.FakeDns dns = new Harness.FakeDns();
            dns.hold = true;
            h.dns = dns;
            h.cleanup = cleanup;
            h.open();
            assertEquals("", h.output());
            h.sendRaw("EHLO early.example\r\n");
            assertEquals("", h.output(), "nothing is answered before the greeting");
            dns.pending.complete(null);
            h.pump();
            assertEquals("554 5.5.0 Error: SMTP protocol synchronization\r\n", h.output());
            assertFalse(h.channel.isOpen());
            assertTrue(h.log.lines.contains("info: improper command pipelining after CONNECT from unknown[192.0.2.10]: "
                    + "EHLO early.example\\r\\n"), h.log.lines.toString());
        }

        @Test
        void pipeliningAfterAGroupEndingCommandIsAProtocolViolation() {
            open();
            assertEquals("554 5.5.0 Error: SMTP protocol synchronization\r\n",
                    h.ask("EHLO c.example\r\nMAIL FROM:<a@example.org>\r\n"));
            assertFalse(h.channel.isOpen());
            assertTrue(h.log.lines.contains("info: improper command pipelining after EHLO from unknown[192.0.2.10]: "
                    + "MAIL FROM:<a@example.org>\\r\\n"), h.log.lines.toString());
        }

        @Test
        void pipeliningWithoutEsmtpIsAProtocolViolation() {
            open();
            h.ask("HELO c.example\r\n");
            assertEquals("554 5.5.0 Error: SMTP protocol synchronization\r\n",
                    h.ask("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"));
        }

        @Test
        void rfc2920GroupsArePipelinedFreely() {
            openTrusted();
            h.ask("EHLO c.example\r\n");
            assertEquals("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
                    h.ask("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n"));
            TransactionTest.Matcher.queued(h.ask("hi\r\n.\r\n"));
            // A message sent along with DATA, before the 354, is a violation.
            assertEquals("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n554 5.5.0 Error: SMTP protocol synchronization\r\n",
                    h.ask("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: x\r\n"));
        }

        @Test
        void commandsOutOfOrderGetPostfixReplies() {
            openTrusted();
            assertEquals("503 5.5.1 Error: need MAIL command\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
            assertEquals("503 5.5.1 Error: need RCPT command\r\n", h.ask("DATA\r\n"));
            h.ask("MAIL FROM:<a@example.org>\r\n");
            assertEquals("503 5.5.1 Error: nested MAIL command\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
            assertEquals("554 5.5.1 Error: no valid recipients\r\n", h.ask("DATA\r\n"));
        }

        @Test
        void tooManyErrorsSlowTheClientDownThenHangUp() {
            open();
            for (int i = 1; i <= 10; i++) {
                assertEquals("500 5.5.2 Error: command not recognized\r\n", h.ask("FOO\r\n"), "error " + i);
            }
            // From smtpd_soft_error_limit (10) on, each reply waits smtpd_error_sleep_time (1 s).
            for (int i = 11; i <= 20; i++) {
                assertEquals("", h.ask("FOO\r\n"), "error " + i + " is not answered at once");
                h.advance(999);
                assertEquals("", h.output());
                h.advance(1);
                assertEquals("500 5.5.2 Error: command not recognized\r\n", h.output(), "error " + i);
            }
            // smtpd_hard_error_limit (20): the 421 comes, after its own delay, and the connection closes.
            assertTrue(h.channel.isOpen());
            h.advance(1000);
            assertEquals("421 4.7.0 mx.example.org Error: too many errors\r\n", h.output());
            assertFalse(h.channel.isOpen());
            assertTrue(h.log.lines.contains("info: too many errors after UNKNOWN from unknown[192.0.2.10]"),
                    h.log.lines.toString());
        }

        @Test
        void errorDelayIsScheduledNotSlept() {
            open("smtpd_soft_error_limit", "1", "smtpd_error_sleep_time", "5s");
            h.ask("FOO\r\n");
            long start = System.nanoTime();
            assertEquals("", h.ask("BAR\r\n"));
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "the event loop did not sleep");
            h.advance(5000);
            assertEquals("500 5.5.2 Error: command not recognized\r\n", h.output());
        }

        @Test
        void junkCommandsBeyondTheLimitCountAsErrors() {
            open("smtpd_junk_command_limit", "2", "smtpd_hard_error_limit", "3", "smtpd_soft_error_limit", "10");
            // Postfix: junk_cmds++ > limit, so the 4th, 5th and 6th NOOP each add an error.
            for (int i = 1; i <= 5; i++) {
                assertEquals("250 2.0.0 Ok\r\n", h.ask("NOOP\r\n"), "noop " + i);
            }
            assertTrue(h.channel.isOpen());
            assertEquals("250 2.0.0 Ok\r\n421 4.7.0 mx.example.org Error: too many errors\r\n", h.ask("NOOP\r\n"));
            assertFalse(h.channel.isOpen());
        }

        @Test
        void silentClientDuringDataTimesOutWithTheByteCount() {
            openTrusted("smtpd_timeout", "60s");
            h.ask("EHLO c.example\r\n");
            transaction();
            h.send("0123456789\r\n");
            h.advance(61_000);
            assertEquals("421 4.4.2 mx.example.org Error: timeout exceeded\r\n", h.output());
            assertFalse(h.channel.isOpen());
            assertEquals(FakeCleanup.State.ABORTED, cleanup.single().state());
            assertTrue(h.log.lines.contains("info: timeout after DATA (12 bytes) from unknown[127.0.0.2]"),
                    h.log.lines.toString());
        }

        @Test
        void aFloodOfCommandsWhileOneWaitsStopsReadingFromTheSocket() {
            Harness.FakeEngine engine = new Harness.FakeEngine();
            engine.async = true;
            h.engine = engine;
            open();
            h.ask("EHLO c.example\r\n");
            h.ask("MAIL FROM:<a@example.org>\r\n");
            h.sendRaw("RCPT TO:<b@example.net>\r\n");
            h.pump();
            assertTrue(h.channel.config().isAutoRead());
            h.sendRaw("RSET\r\n".repeat(10_000));
            h.pump();
            assertFalse(h.channel.config().isAutoRead(), "more than a bounded amount waits: reading stops");
            for (int i = 0; i < 4; i++) {
                engine.completeAll();
                h.pump();
            }
            assertTrue(h.output().startsWith("250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n"));
        }

        // ---- SMTP smuggling (CVE-2023-51764 and relatives): only <CR><LF>.<CR><LF> ends DATA ----

        private void smuggle(String ending) {
            openTrusted();
            h.ask("EHLO c.example\r\n");
            transaction();
            String smuggled = "MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nforged\r\n";
            String reply = h.ask("Subject: x\r\n\r\nbody" + ending + smuggled + ".\r\n");
            FakeCleanup.Message m = cleanup.single();
            assertEquals("250 2.0.0 Ok: queued as " + m.queueId() + "\r\n", reply, "one message, one reply");
            assertTrue(m.text().contains("MAIL FROM:<evil@example.org>\r\n"), m.text());
            assertEquals(1, cleanup.messages().size());
        }

        @Test
        void lfDotLfDoesNotEndData() {
            smuggle("\n.\n");
            assertEquals("Subject: x\r\n\r\nbody\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\n"
                    + "DATA\r\nforged\r\n", cleanup.single().text());
        }

        @Test
        void crLfDotLfDoesNotEndData() {
            smuggle("\r\n.\n");
        }

        @Test
        void lfDotCrLfDoesNotEndData() {
            smuggle("\n.\r\n");
        }

        @Test
        void crDotCrDoesNotEndData() {
            smuggle("\r.\r");
            assertTrue(cleanup.single().text().startsWith("Subject: x\r\n\r\nbody\r.\rMAIL FROM:"), cleanup.single().text());
        }

        @Test
        void bareCrInsideACommandIsNotALineEnd() {
            open();
            // One line "NOOP<CR>QUIT": NOOP with an argument.
            assertEquals("501 5.5.4 Syntax: NOOP\r\n", h.ask("NOOP\rQUIT\r\n"));
            assertTrue(h.channel.isOpen());
        }

        @Test
        void bareLfIsRejectedWhenConfigured() {
            open("smtpd_forbid_bare_newline", "reject");
            assertEquals("550 5.5.2 mx.example.org Error: bare <LF> received\r\n", h.ask("NOOP\n"));
            assertFalse(h.channel.isOpen());
            assertTrue(h.log.lines.contains("info: NOQUEUE: reject: UNKNOWN from unknown[192.0.2.10]: bare <LF> received; "
                    + "proto=SMTP") || h.log.lines.stream().anyMatch(l -> l.contains("bare <LF> received; proto=SMTP")),
                    h.log.lines.toString());
        }

        @Test
        void bareLfInContentIsRejectedWhenConfiguredAndNothingIsQueued() {
            openTrusted("smtpd_forbid_bare_newline", "reject", "smtpd_forbid_bare_newline_reject_code", "521");
            h.ask("EHLO c.example\r\n");
            transaction();
            assertEquals("521 5.5.2 mx.example.org Error: bare <LF> received\r\n", h.ask("a\nb\r\n.\r\n"));
            assertTrue(cleanup.committed().isEmpty());
            assertFalse(h.channel.isOpen());
        }

        @Test
        void legacyClientsCanStillEndDataWithBareLfWhenExcluded() {
            h.clientIp = "127.0.0.2";
            open("mynetworks", "127.0.0.2/32"); // exclusions default to mynetworks
            h.ask("EHLO c.example\r\n");
            transaction();
            TransactionTest.Matcher.queued(h.ask("legacy\n.\n"));
            assertEquals("legacy\r\n", cleanup.single().text());
        }

        @Test
        void connectionCountLimitRefusesTheExtraClient() {
            Harness[] sessions = new Harness[3];
            ClientLimits shared = new ClientLimits(60);
            try {
                for (int i = 0; i < 3; i++) {
                    sessions[i] = new Harness();
                    sessions[i].limits = shared;
                    sessions[i].open("smtpd_client_connection_count_limit", "2", "smtpd_client_event_limit_exceptions", "");
                }
                assertEquals("220 mx.example.org ESMTP Estafeta\r\n", sessions[1].output());
                assertEquals("421 4.7.0 mx.example.org Error: too many connections from 192.0.2.10\r\n",
                        sessions[2].output());
                assertFalse(sessions[2].channel.isOpen());
                assertTrue(sessions[2].log.lines.contains(
                        "warning: Connection concurrency limit exceeded: 3 from unknown[192.0.2.10] for service smtp"),
                        sessions[2].log.lines.toString());
                // One leaves: the next one is served.
                sessions[0].channel.close();
                sessions[2].close();
                sessions[2] = new Harness();
                sessions[2].limits = shared;
                sessions[2].open("smtpd_client_connection_count_limit", "2", "smtpd_client_event_limit_exceptions", "");
                assertEquals("220 mx.example.org ESMTP Estafeta\r\n", sessions[2].output());
            } finally {
                for (Harness s : sessions) {
                    if (s != null) {
                        s.close();
                    }
                }
            }
        }

        @Test
        void connectionRateLimitRefusesTheExtraClient() {
            ClientLimits shared = new ClientLimits(60);
            List<Harness> all = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Harness s = new Harness();
                    s.limits = shared;
                    all.add(s);
                    s.open("smtpd_client_connection_rate_limit", "2", "smtpd_client_event_limit_exceptions", "");
                    s.channel.close();
                }
                assertEquals("421 4.7.0 mx.example.org Error: too many connections from 192.0.2.10\r\n",
                        all.get(2).output());
                assertTrue(all.get(2).log.lines.contains(
                        "warning: Connection rate limit exceeded: 3 from unknown[192.0.2.10] for service smtp"),
                        all.get(2).log.lines.toString());
            } finally {
                all.forEach(Harness::close);
            }
        }

        @Test
        void clientsInTheExceptionsAreNotLimited() {
            ClientLimits shared = new ClientLimits(60);
            List<Harness> all = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Harness s = new Harness();
                    s.limits = shared;
                    s.clientIp = "127.0.0.1";
                    all.add(s);
                    s.open("smtpd_client_connection_count_limit", "1");
                    assertEquals("220 mx.example.org ESMTP Estafeta\r\n", s.output());
                }
            } finally {
                all.forEach(Harness::close);
            }
        }
    }

    /** With real sockets on 127.0.0.1. */
    @Nested
    class Sockets {
        private final RecordingLog log = new RecordingLog();
        private final List<Socket> sockets = new ArrayList<>();
        private final SmtpdDaemon daemon = new SmtpdDaemon(log, 2_000);
        private DaemonInstance instance;
        private int port;

        @AfterEach
        void stop() throws IOException {
            for (Socket s : sockets) {
                s.close();
            }
            daemon.deactivate();
        }

        private void start(String maxproc, String... params) throws Exception {
            daemon.activate();
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            String[] all = new String[params.length + 2];
            all[0] = "myhostname";
            all[1] = "mx.example.org";
            System.arraycopy(params, 0, all, 2, params.length);
            instance = daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, maxproc), Defaults.of(all));
        }

        private Socket connect() throws IOException {
            Socket s = new Socket();
            sockets.add(s);
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            return s;
        }

        private String line(BufferedReader in) throws IOException {
            return in.readLine();
        }

        private BufferedReader reader(Socket s) throws IOException {
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
        }

        private void send(Socket s, String text) throws IOException {
            s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
        }

        @Test
        void garbageFromOneClientDoesNotDisturbAnother() throws Exception {
            start("-");
            Socket bad = connect();
            BufferedReader badIn = reader(bad);
            assertEquals("220 mx.example.org ESMTP Estafeta", line(badIn));
            byte[] junk = new byte[256 * 1024];
            new Random(7).nextBytes(junk);
            try {
                bad.getOutputStream().write(junk);
            } catch (IOException e) {
                // the server may hang up first
            }
            Socket good = connect();
            BufferedReader in = reader(good);
            assertEquals("220 mx.example.org ESMTP Estafeta", line(in));
            send(good, "NOOP\r\n");
            assertEquals("250 2.0.0 Ok", line(in));
        }

        @Test
        void manyIdleConnectionsCostLittleMemoryAndOthersAreStillServed() throws Exception {
            start("0");
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            // Warm up the classes and pools with one session first.
            Socket warm = connect();
            assertEquals("220 mx.example.org ESMTP Estafeta", line(reader(warm)));
            long before = usedHeapAfterGc(memory);
            int n = 2000;
            List<Socket> idle = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                idle.add(connect());
            }
            for (Socket s : idle) {
                byte[] greeting = new byte[35];
                int got = 0;
                while (got < greeting.length) {
                    int r = s.getInputStream().read(greeting, got, greeting.length - got);
                    assertTrue(r > 0);
                    got += r;
                }
            }
            long after = usedHeapAfterGc(memory);
            long perConnection = (after - before) / n;
            assertTrue(perConnection < 64 * 1024, "heap per idle connection: " + perConnection + " bytes");
            Socket other = connect();
            BufferedReader in = reader(other);
            assertEquals("220 mx.example.org ESMTP Estafeta", line(in));
            send(other, "EHLO c.example\r\n");
            assertEquals("250-mx.example.org", line(in));
            System.out.println("idle connections: " + n + ", heap per connection after GC: " + perConnection + " bytes");
        }

        private long usedHeapAfterGc(MemoryMXBean memory) throws InterruptedException {
            long used = Long.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                System.gc();
                Thread.sleep(50);
                used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
            }
            return used;
        }

        @Test
        void slowCleanupStopsTheSessionReadingAndTheMessageStillArrivesWhole() throws Exception {
            FakeCleanup cleanup = new FakeCleanup();
            start("-", "message_size_limit", "0");
            daemon.cleanup = cleanup;
            cleanup.holdWrites();
            Socket s = connect();
            BufferedReader in = reader(s);
            assertEquals("220 mx.example.org ESMTP Estafeta", line(in));
            send(s, "HELO c.example\r\n");
            assertEquals("250 mx.example.org", line(in));
            send(s, "MAIL FROM:<a@example.org>\r\n");
            assertEquals("250 2.1.0 Ok", line(in));
            send(s, "RCPT TO:<b@example.net>\r\n");
            assertEquals("250 2.1.5 Ok", line(in));
            send(s, "DATA\r\n");
            assertEquals("354 End data with <CR><LF>.<CR><LF>", line(in));
            long total = 64L * 1024 * 1024;
            byte[] lineBytes = ("x".repeat(1022) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
            AtomicLong written = new AtomicLong();
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    for (long w = 0; w < total; w += lineBytes.length) {
                        out.write(lineBytes);
                        written.addAndGet(lineBytes.length);
                    }
                    out.write(".\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                } catch (IOException e) {
                    // reported by the assertions below
                }
            }, "slow-cleanup-writer");
            writer.setDaemon(true);
            writer.start();
            // The writer stalls: the server stopped reading while Cleanup holds its first write.
            long last = -1;
            for (int i = 0; i < 50 && written.get() != last; i++) {
                last = written.get();
                Thread.sleep(200);
            }
            long stalledAt = written.get();
            assertTrue(stalledAt < 32L * 1024 * 1024, "client could write " + stalledAt + " bytes");
            assertTrue(writer.isAlive());
            cleanup.releaseWrites();
            writer.join(60_000);
            assertFalse(writer.isAlive());
            String reply = line(in);
            assertTrue(reply.startsWith("250 2.0.0 Ok: queued as "), reply);
            assertEquals(total, cleanup.single().content().length);
            assertEquals(reply.substring("250 2.0.0 Ok: queued as ".length()), cleanup.single().queueId());
        }

        @Test
        void slowCommitHoldsThe250UntilItReturns() throws Exception {
            FakeCleanup cleanup = new FakeCleanup();
            start("-");
            daemon.cleanup = cleanup;
            cleanup.holdCommits();
            Socket s = connect();
            BufferedReader in = reader(s);
            line(in);
            send(s, "EHLO c.example\r\n");
            while (!line(in).startsWith("250 ")) {
                // the EHLO lines
            }
            send(s, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
            assertEquals("250 2.1.0 Ok", line(in));
            assertEquals("250 2.1.5 Ok", line(in));
            assertEquals("354 End data with <CR><LF>.<CR><LF>", line(in));
            send(s, "hello\r\n.\r\n");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (cleanup.commitsWaiting() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, cleanup.commitsWaiting());
            s.setSoTimeout(500);
            assertThrows(java.net.SocketTimeoutException.class, () -> line(in), "no reply while commit runs");
            s.setSoTimeout(10_000);
            cleanup.releaseCommits();
            String reply = line(in);
            assertEquals("250 2.0.0 Ok: queued as " + cleanup.single().queueId(), reply);
            // The commit ran on the worker pool, never on the event loop.
            assertTrue(cleanup.single().threads().stream().allMatch(t -> t.startsWith("smtpd-worker")),
                    cleanup.single().threads().toString());
        }

        @Test
        void anIdleClientIsDroppedAfterSmtpdTimeoutWhileOthersGoOn() throws Exception {
            start("-", "smtpd_timeout", "1s");
            Socket silent = connect();
            BufferedReader in = reader(silent);
            assertEquals("220 mx.example.org ESMTP Estafeta", line(in));
            assertEquals("421 4.4.2 mx.example.org Error: timeout exceeded", line(in));
            assertNull(line(in));
        }

        private static void assertThrows(Class<? extends Throwable> type, org.junit.jupiter.api.function.Executable e,
                String message) {
            org.junit.jupiter.api.Assertions.assertThrows(type, e, message);
        }
    }
}
