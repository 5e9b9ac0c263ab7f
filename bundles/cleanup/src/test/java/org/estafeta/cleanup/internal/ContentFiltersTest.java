package org.estafeta.cleanup.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.message.Reply;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigLoader;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.config.MasterEntry;
import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.QueueName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * estafeta_content_filters as cleanup applies them: what a filter sees, and what each verdict, a missing filter, a
 * failing one and a slow one do to the queue. The filters here are small lambdas; the real ClamAV and SpamAssassin
 * adapters against real daemons are tested in their bundles and, through the running gateway, in the launcher's
 * FilterIT.
 */
class ContentFiltersTest {
    static final String MESSAGE = "From: a@example.org\r\nSubject: hello\r\n  folded\r\n\r\nthe body\r\n";

    @TempDir
    Path tmp;

    private FileQueueStore store;
    private CleanupService cleanup;
    /** The main.cf (and master.cf) the last cleanup reads. */
    private ConfigSnapshot snapshot;

    @AfterEach
    void stop() {
        if (cleanup != null) {
            cleanup.deactivate();
        }
    }

    /** A cleanup service on a fresh queue, configured by {@code mainCf} (and {@code masterCf} when not null). */
    private CleanupService cleanup(String mainCf, String masterCf) throws Exception {
        store = new FileQueueStore(tmp.resolve("q"));
        Path conf = Files.createDirectories(tmp.resolve("etc"));
        Files.writeString(conf.resolve("main.cf"), "myhostname = mx.example.com\n" + mainCf);
        if (masterCf != null) {
            Files.writeString(conf.resolve("master.cf"), masterCf);
        }
        ConfigSnapshot snap = ConfigLoader.load(conf, tmp.resolve("var"));
        snapshot = snap;
        cleanup = new CleanupService(store, CleanupFixture.fixed(snap), java.time.Clock.systemDefaultZone());
        return cleanup;
    }

    private static Submission submission() {
        return new Submission("a@example.org", Map.of(), List.of(new Submission.Recipient("b@example.net", List.of(),
                Optional.empty())), new ClientInfo("192.0.2.7", "client.example.org", "helo.example.org", false,
                        Optional.empty()), "ESMTP", Submission.Actions.NONE);
    }

    private static String send(Cleanup c, String message) throws Exception {
        return send(c, null, message);
    }

    private static String send(Cleanup c, ConfigSnapshot service, String message) throws Exception {
        Cleanup.Stream s = c.open(submission(), service);
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i += 7) {
            s.write(b, i, Math.min(7, b.length - i));
        }
        return s.commit();
    }

    private String stored(QueueName queue, String id) throws IOException {
        try (InputStream in = store.read(queue, id).content()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private boolean queueIsEmpty() throws IOException {
        try (var files = Files.walk(store.directory())) {
            return files.allMatch(Files::isDirectory);
        }
    }

    /** What one filter call saw. */
    record Seen(Envelope envelope, List<Header> headers, String message, String body, long size, String thread) {
    }

    private static Seen see(Envelope e, MessageContent c) {
        try (InputStream m = c.openMessage(); InputStream b = c.openBody()) {
            return new Seen(e, c.headers(), new String(m.readAllBytes(), StandardCharsets.UTF_8),
                    new String(b.readAllBytes(), StandardCharsets.UTF_8), c.size(), Thread.currentThread().getName());
        } catch (IOException x) {
            throw new java.io.UncheckedIOException(x);
        }
    }

    @Test
    void acceptedHeadersGoOnTopBelowReceivedAndLaterFiltersSeeEarlierOnes() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = first, second\n", null);
        List<Seen> seen = new CopyOnWriteArrayList<>();
        c.registerFilter("first", (e, content, ctx) -> {
            seen.add(see(e, content));
            return new FilterVerdict.Accept(List.of(new Header("X-First", "one"), new Header("X-First-Too", "two")));
        }, "org.example.first 1.0.0");
        c.registerFilter("second", (e, content, ctx) -> {
            seen.add(see(e, content));
            return new FilterVerdict.Accept(List.of(new Header("X-Second", "a long value " + "word ".repeat(30))));
        }, "org.example.second 2.0.0");
        String caller = Thread.currentThread().getName();
        String id = send(c, MESSAGE);

        String text = stored(QueueName.INCOMING, id);
        int received = text.indexOf("Received: from helo.example.org");
        int second = text.indexOf("X-Second: a long value");
        int first = text.indexOf("X-First: one\r\nX-First-Too: two\r\n");
        assertTrue(received == 0 && second > received && first > second, text);
        assertTrue(text.endsWith("X-First-Too: two\r\n" + MESSAGE), text);
        // folded before 78 columns, white space kept
        for (String line : text.substring(second, first).split("\r\n")) {
            assertTrue(line.length() <= 78, line);
        }

        assertEquals(2, seen.size());
        Seen one = seen.get(0);
        assertEquals(id, one.envelope().queueId());
        assertEquals("a@example.org", one.envelope().sender());
        assertEquals(List.of("b@example.net"), one.envelope().recipients());
        assertEquals("192.0.2.7", one.envelope().client().address());
        assertTrue(one.message().startsWith("Received: from helo.example.org") && one.message().endsWith(MESSAGE),
                one.message());
        assertEquals(one.message().length(), one.size());
        assertEquals("the body\r\n", one.body());
        assertEquals(List.of("Received", "From", "Subject"), one.headers().stream().map(Header::name).toList());
        assertEquals("hello  folded", one.headers().get(2).value(), "unfolded");
        // since the event SPI: on the caller's thread (a worker: smtpd never calls cleanup on its event loop), under
        // the watchdog that enforces estafeta_content_filter_timeout (slowFilterTimesOut...)
        assertEquals(caller, one.thread(), "filters run on the calling worker thread");
        Seen two = seen.get(1);
        assertTrue(two.message().contains("\r\nX-First: one\r\nX-First-Too: two\r\nFrom: a@example.org"), two.message());
        assertEquals(List.of("Received", "X-First", "X-First-Too", "From", "Subject"),
                two.headers().stream().map(Header::name).toList());
        assertEquals("the body\r\n", two.body());
        assertFalse(Files.exists(store.directory().resolve("tmp").resolve("filter." + id)), "the spool is gone");
    }

    @Test
    void modifyEditsHeadersAddsRecipientsAndReplacesTheBody() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = edit, late\n", null);
        Path newBody = tmp.resolve("new-body");
        Files.writeString(newBody, "the cleaned body\r\n");
        c.registerFilter("edit", (e, content, ctx) -> new FilterVerdict.Modify(
                List.of(new Header("X-Scanned", "yes")),
                List.of(new org.estafeta.api.filter.HeaderEdit("Subject", 1, Optional.of("[tagged] hello")),
                        new org.estafeta.api.filter.HeaderEdit("From", 1, Optional.empty()),
                        new org.estafeta.api.filter.HeaderEdit("X-Spam", 1, Optional.of("Yes"))),
                List.of("archive@example.net"), Optional.of(newBody)), "org.example.edit 1.0.0");
        List<String> seenByLate = new CopyOnWriteArrayList<>();
        c.registerFilter("late", (e, content, ctx) -> {
            seenByLate.add(content.header("Subject"));
            return FilterVerdict.accept();
        }, "org.example.late 1.0.0");
        String id = send(c, MESSAGE);

        String text = stored(QueueName.INCOMING, id);
        assertTrue(text.contains("X-Scanned: yes\r\n"), text);
        assertTrue(text.contains("Subject: [tagged] hello\r\n") && !text.contains("  folded"), text);
        assertTrue(!text.contains("From: a@example.org"), text);
        assertTrue(text.endsWith("X-Spam: Yes\r\n\r\nthe cleaned body\r\n"), text);
        assertEquals(List.of("hello  folded"), seenByLate, "later filters see the message before the edits");
        assertFalse(Files.exists(newBody), "the replacement body file is the gateway's to delete");
        var extracted = store.read(QueueName.INCOMING, id).extracted();
        assertEquals(List.of("archive@example.net"), extracted.recipients().stream().map(r -> r.address()).toList());
    }

    @Test
    void aRefusalAfterAModifyDeletesTheReplacementBody() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = edit, av\n", null);
        Path newBody = tmp.resolve("new-body");
        Files.writeString(newBody, "x\r\n");
        c.registerFilter("edit", (e, content, ctx) -> new FilterVerdict.Modify(List.of(), List.of(), List.of(),
                Optional.of(newBody)), "org.example.edit 1.0.0");
        c.registerFilter("av", (e, content, ctx) -> new FilterVerdict.Reject(Reply.reject(554, "5.7.1", "no")),
                "org.example.av 1.0.0");
        assertThrows(Cleanup.Rejected.class, () -> send(c, MESSAGE));
        assertFalse(Files.exists(newBody));
        assertTrue(queueIsEmpty());
    }

    @Test
    void rejectAndDeferReachTheClientAndNothingIsQueued() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = av\n", null);
        Reply[] next = {Reply.reject(554, "5.7.1", "Virus found: Eicar-Signature")};
        c.registerFilter("av", (e, content, ctx) -> next[0].isPermanent() ? new FilterVerdict.Reject(next[0])
                : new FilterVerdict.Defer(next[0]), "org.example.av 1.0.0");
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class, () -> send(c, MESSAGE));
        assertEquals("554 5.7.1 Virus found: Eicar-Signature", r.reply().toString());
        assertTrue(queueIsEmpty());
        next[0] = Reply.tempfail(450, "4.7.1", "Try again later");
        r = assertThrows(Cleanup.Rejected.class, () -> send(c, MESSAGE));
        assertEquals("450 4.7.1 Try again later", r.reply().toString());
        assertTrue(queueIsEmpty());
    }

    @Test
    void discardAcknowledgesWithoutQueueingAndHoldQueuesOnHold() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = decide, tag\n", null);
        FilterVerdict[] next = {new FilterVerdict.Discard("virus found")};
        c.registerFilter("decide", (e, content, ctx) -> next[0], "org.example.decide 1.0.0");
        c.registerFilter("tag", (e, content, ctx) -> new FilterVerdict.Accept(List.of(new Header("X-Tag", "yes"))),
                "org.example.tag 1.0.0");
        String id = send(c, MESSAGE);
        assertFalse(id.isEmpty());
        assertTrue(queueIsEmpty());

        next[0] = new FilterVerdict.Hold("looks odd");
        id = send(c, MESSAGE);
        assertEquals(List.of(), store.list(QueueName.INCOMING));
        assertEquals(List.of(id), store.list(QueueName.HOLD));
        assertTrue(stored(QueueName.HOLD, id).contains("\r\nX-Tag: yes\r\nFrom: a@example.org\r\n"),
                "the chain went on after the hold: " + stored(QueueName.HOLD, id));
    }

    @Test
    void localSubmissionIsRefusedAsHeaderChecksRefuseIt() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = av\n", null);
        List<Envelope> seen = new CopyOnWriteArrayList<>();
        c.registerFilter("av", (e, content, ctx) -> {
            seen.add(e);
            return new FilterVerdict.Reject(Reply.reject(554, "5.7.1", "Virus found: Eicar-Signature"));
        }, "org.example.av 1.0.0");
        Submission local = new Submission("ana@mx.example.com", Map.of(), List.of(new Submission.Recipient(
                "b@example.net", List.of(), Optional.empty())), new ClientInfo("", "localhost", "", false,
                        Optional.empty()), "ESMTP", Submission.Actions.NONE, Optional.of(new Submission.Local(1000, "Ana")));
        Cleanup.Stream s = c.open(local);
        byte[] b = MESSAGE.getBytes(StandardCharsets.US_ASCII);
        s.write(b, 0, b.length);
        // pickup gets the same Cleanup.Rejected as for a header_checks REJECT (and removes the maildrop file)
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class, s::commit);
        assertEquals("554 5.7.1 Virus found: Eicar-Signature", r.reply().toString());
        assertEquals("ana@mx.example.com", seen.get(0).sender());
        assertTrue(queueIsEmpty());
    }

    @Test
    void aFilterThatIsNotInstalledIs451AndMailNeverPassesUnfiltered() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = clamav\nestafeta_content_filter_fail_open = clamav\n", null);
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class, () -> send(c, MESSAGE));
        assertEquals("451 4.3.0 Error: content filter temporarily unavailable", r.reply().toString());
        assertTrue(queueIsEmpty());
    }

    @Test
    void aFailingFilterIs451UnlessItFailsOpen() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = broken\n", null);
        c.registerFilter("broken", (e, content, ctx) -> {
            throw new IllegalStateException("connect to unix:/nowhere: Connection refused");
        }, "org.example.broken 1.0.0");
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class, () -> send(c, MESSAGE));
        assertEquals(451, r.reply().code());
        assertEquals("4.3.0", r.reply().enhancedStatus());
        assertTrue(queueIsEmpty());
        CleanupService c2 = cleanup("estafeta_content_filters = null\n", null);
        c2.registerFilter("null", (e, content, ctx) -> null, "org.example.null 1.0.0");
        assertEquals(451, assertThrows(Cleanup.Rejected.class, () -> send(c2, MESSAGE)).reply().code());

        CleanupService open = cleanup("estafeta_content_filters = broken, tag\nestafeta_content_filter_fail_open = broken\n",
                null);
        open.registerFilter("broken", (e, content, ctx) -> {
            throw new IllegalStateException("spamd is down");
        }, "org.example.broken 1.0.0");
        open.registerFilter("tag", (e, content, ctx) -> new FilterVerdict.Accept(List.of(new Header("X-Tag", "yes"))),
                "org.example.tag 1.0.0");
        String id = send(open, MESSAGE);
        assertTrue(stored(QueueName.INCOMING, id).contains("X-Tag: yes\r\n"), "the next filter still ran");
    }

    @Test
    void aSlowFilterTimesOutWith451AndItsThreadIsInterrupted() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = slow\nestafeta_content_filter_timeout = 1s\n", null);
        CountDownLatch interrupted = new CountDownLatch(1);
        c.registerFilter("slow", (e, content, ctx) -> {
            try {
                Thread.sleep(30_000);
            } catch (InterruptedException x) {
                interrupted.countDown();
            }
            return FilterVerdict.accept();
        }, "org.example.slow 1.0.0");
        long start = System.nanoTime();
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class, () -> send(c, MESSAGE));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(451, r.reply().code());
        assertTrue(ms >= 900 && ms < 10_000, ms + " ms");
        assertTrue(interrupted.await(10, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(queueIsEmpty());
    }

    @Test
    void aServiceTurnsTheFiltersOffWithMinusO() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = reject\n", String.join("\n",
                "smtp      inet  n       -       n       -       -       smtpd",
                "127.0.0.1:10026 inet n  -       n       -       -       smtpd",
                "    -o estafeta_content_filters=",
                ""));
        c.registerFilter("reject", (e, content, ctx) -> new FilterVerdict.Reject(Reply.reject(554, "5.7.1", "no")),
                "org.example.reject 1.0.0");
        ConfigSnapshot main = snapshot;
        MasterEntry reinjection = main.services().stream().filter(e -> e.service().startsWith("127.0.0.1")).findFirst()
                .orElseThrow();
        MasterEntry smtp = main.services().stream().filter(e -> e.service().equals("smtp")).findFirst().orElseThrow();
        assertThrows(Cleanup.Rejected.class, () -> send(c, main.forService(smtp), MESSAGE));
        assertThrows(Cleanup.Rejected.class, () -> send(c, MESSAGE));
        String id = send(c, main.forService(reinjection), MESSAGE);
        assertTrue(stored(QueueName.INCOMING, id).endsWith(MESSAGE));
    }

    @Test
    void theFilterGetsItsParametersFromTheServiceSnapshot() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = echo\nmy_filter_level = 3\n", String.join("\n",
                "smtp      inet  n       -       n       -       -       smtpd",
                "    -o my_filter_level=7",
                ""));
        c.registerFilter("echo", (e, content, ctx) -> new FilterVerdict.Accept(List.of(
                new Header("X-Level", ctx.parameter("my_filter_level").orElse("none")))), "org.example.echo 1.0.0");
        ConfigSnapshot main = snapshot;
        assertTrue(stored(QueueName.INCOMING, send(c, MESSAGE)).contains("X-Level: 3\r\n"));
        String id = send(c, main.forService(main.services().get(0)), MESSAGE);
        assertTrue(stored(QueueName.INCOMING, id).contains("X-Level: 7\r\n"));
    }

    @Test
    void aBadTimeoutIs451() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = x\nestafeta_content_filter_timeout = soon\n", null);
        assertThrows(IOException.class, () -> c.open(submission()));
        assertTrue(queueIsEmpty());
    }

    @Test
    void headerChecksRejectComesFirstAndTheFilterIsNotAsked() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = count\n", null);
        int[] calls = {0};
        c.registerFilter("count", (e, content, ctx) -> {
            calls[0]++;
            return FilterVerdict.accept();
        }, "org.example.count 1.0.0");
        Cleanup.Stream s = c.open(new Submission("a@example.org", Map.of(), List.of(new Submission.Recipient(
                "b@example.net", List.of(), Optional.empty())), new ClientInfo("192.0.2.7", "c", "h", false,
                        Optional.empty()), "ESMTP", new Submission.Actions(Optional.empty(), Optional.of("trap"),
                                Optional.empty(), Optional.empty(), List.of())));
        byte[] b = MESSAGE.getBytes(StandardCharsets.US_ASCII);
        s.write(b, 0, b.length);
        s.commit();
        assertEquals(0, calls[0], "an access DISCARD needs no filter");
        assertTrue(queueIsEmpty());
    }

    @Test
    void abortRemovesTheSpool() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = x\n", null);
        Cleanup.Stream s = c.open(submission());
        s.write(new byte[100_000], 0, 100_000);
        s.abort();
        assertTrue(queueIsEmpty());
    }

    @Test
    void fiftyMegabytesAreFilteredWithASmallHeap() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = count\n", null);
        long[] counted = {0};
        c.registerFilter("count", (e, content, ctx) -> {
            try (InputStream in = content.openMessage()) {
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    counted[0] += n;
                }
            } catch (IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
            return new FilterVerdict.Accept(List.of(new Header("X-Counted", Long.toString(counted[0]))));
        }, "org.example.count 1.0.0");
        Cleanup.Stream s = c.open(submission());
        byte[] head = "Subject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        s.write(head, 0, head.length);
        byte[] chunk = ("x".repeat(78) + "\r\n").repeat(800).getBytes(StandardCharsets.US_ASCII);
        long total = 50L * 1024 * 1024;
        for (long w = 0; w < total; w += chunk.length) {
            s.write(chunk, 0, chunk.length);
        }
        String id = s.commit();
        var m = store.read(QueueName.INCOMING, id);
        String xCounted = "X-Counted: " + counted[0] + "\r\n";
        assertEquals(counted[0] + xCounted.length(), m.contentLength());
        assertTrue(counted[0] > total);
        assertTrue(Runtime.getRuntime().maxMemory() < total, "the heap bound must be below the message size");
    }

    // ------------------------------------------------------------------ session filters (api filter 1.2)

    /** A session filter that records every event it gets, as {@code event:argument}, and answers with {@code how}. */
    static final class Recorder implements org.estafeta.api.filter.SessionFilter {
        final List<String> events = new CopyOnWriteArrayList<>();
        final java.util.function.Function<String, org.estafeta.api.filter.EventVerdict> how;
        final java.util.function.Supplier<FilterVerdict> end;

        Recorder(java.util.function.Function<String, org.estafeta.api.filter.EventVerdict> how,
                java.util.function.Supplier<FilterVerdict> end) {
            this.how = how;
            this.end = end;
        }

        Recorder() {
            this(e -> org.estafeta.api.filter.EventVerdict.CONTINUE, FilterVerdict::accept);
        }

        private org.estafeta.api.filter.EventVerdict on(String event) {
            events.add(event);
            return how.apply(event);
        }

        @Override
        public org.estafeta.api.filter.FilterSession open(org.estafeta.api.plugin.PluginContext context) {
            return new org.estafeta.api.filter.FilterSession() {
                @Override
                public org.estafeta.api.filter.EventVerdict connect(ClientInfo client) {
                    return on("connect:" + client.address());
                }

                @Override
                public org.estafeta.api.filter.EventVerdict helo(String name) {
                    return on("helo:" + name);
                }

                @Override
                public void tls(org.estafeta.api.filter.TlsInfo tls) {
                    events.add("tls:" + tls.protocol());
                }

                @Override
                public void authenticated(String mechanism, String username) {
                    events.add("auth:" + mechanism + ":" + username);
                }

                @Override
                public org.estafeta.api.filter.EventVerdict mail(String sender, Map<String, String> parameters) {
                    return on("mail:" + sender);
                }

                @Override
                public org.estafeta.api.filter.EventVerdict rcpt(String recipient, Map<String, String> parameters) {
                    return on("rcpt:" + recipient);
                }

                @Override
                public org.estafeta.api.filter.EventVerdict data(String queueId) {
                    return on("data");
                }

                @Override
                public org.estafeta.api.filter.EventVerdict header(org.estafeta.api.filter.HeaderField h) {
                    return on("header:" + h.text());
                }

                @Override
                public org.estafeta.api.filter.EventVerdict endOfHeaders() {
                    return on("eoh");
                }

                @Override
                public org.estafeta.api.filter.EventVerdict body(java.nio.ByteBuffer chunk) {
                    byte[] b = new byte[chunk.remaining()];
                    chunk.get(b);
                    return on("body:" + new String(b, StandardCharsets.UTF_8));
                }

                @Override
                public FilterVerdict endOfMessage(Envelope envelope, MessageContent content) {
                    events.add("eom:" + envelope.recipients());
                    return end.get();
                }

                @Override
                public void abort() {
                    events.add("abort");
                }

                @Override
                public void close() {
                    events.add("close");
                }
            };
        }
    }

    private static final ClientInfo CLIENT = new ClientInfo("192.0.2.7", "client.example.org", "helo.example.org",
            false, Optional.empty());

    /** A session's filters as smtpd drives them: CONNECT, HELO, MAIL, one RCPT (each must pass). */
    private org.estafeta.cleanup.FilterChannel session(CleanupService c) {
        org.estafeta.cleanup.FilterChannel f = c.filters(null).orElseThrow();
        assertEquals(Optional.empty(), f.connect(CLIENT));
        assertEquals(Optional.empty(), f.helo("helo.example.org"));
        assertEquals(Optional.empty(), f.mail("a@example.org", Map.of()));
        assertEquals(Optional.empty(), f.rcpt("b@example.net", Map.of()));
        return f;
    }

    private static String sendThrough(Cleanup c, org.estafeta.cleanup.FilterChannel f, String message)
            throws Exception {
        Cleanup.Stream s = c.open(submission(), null, f);
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i += 7) {
            s.write(b, i, Math.min(7, b.length - i));
        }
        return s.commit();
    }

    @Test
    void aSessionFilterHearsEveryEventInOrderAndAnAbortBetweenTransactions() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = rec\n", null);
        Recorder rec = new Recorder();
        c.registerFilter("rec", rec, "org.example.rec 1.0.0");
        org.estafeta.cleanup.FilterChannel f = session(c);
        String id = sendThrough(c, f, MESSAGE);
        assertEquals(List.of("connect:192.0.2.7", "helo:helo.example.org", "mail:a@example.org", "rcpt:b@example.net",
                "data", "header:From: a@example.org", "header:Subject: hello\r\n  folded", "eoh",
                "body:the body\r\n", "eom:[b@example.net]"), rec.events);
        assertTrue(stored(QueueName.INCOMING, id).endsWith(MESSAGE));
        rec.events.clear();
        assertEquals(Optional.empty(), f.mail("c@example.org", Map.of()));
        f.reset(); // RSET
        assertEquals(Optional.empty(), f.mail("d@example.org", Map.of()));
        f.close();
        assertEquals(List.of("mail:c@example.org", "abort", "mail:d@example.org", "abort", "close"), rec.events);
    }

    @Test
    void refusalsTakeEffectAtTheirStage() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = gate\n", null);
        Reply no = Reply.reject(550, "5.7.1", "not this one");
        Reply later = Reply.tempfail(451, "4.7.1", "later");
        c.registerFilter("gate", new Recorder(e -> e.equals("rcpt:bad@example.net")
                ? new org.estafeta.api.filter.EventVerdict.Reject(no)
                : e.equals("rcpt:slow@example.net") ? new org.estafeta.api.filter.EventVerdict.Defer(later)
                : e.equals("helo:evil") ? new org.estafeta.api.filter.EventVerdict.Reject(no)
                : org.estafeta.api.filter.EventVerdict.CONTINUE, FilterVerdict::accept), "org.example.gate 1.0.0");
        org.estafeta.cleanup.FilterChannel f = session(c);
        var r = f.rcpt("bad@example.net", Map.of()).orElseThrow();
        assertEquals(no, r.reply());
        assertEquals("gate", r.filter());
        assertFalse(r.sessionWide(), "a recipient only");
        assertEquals(later, f.rcpt("slow@example.net", Map.of()).orElseThrow().reply());
        assertEquals(Optional.empty(), f.rcpt("good@example.net", Map.of()), "the next recipient is fine");
        // HELO refused: the rest of the session is
        var h = f.helo("evil").orElseThrow();
        assertTrue(h.sessionWide());
        assertEquals(no, f.mail("a@example.org", Map.of()).orElseThrow().reply());
        f.close();
    }

    @Test
    void aReplacedHeaderReachesLaterFiltersAndTheQueueReplacedAndBodyChunksCanBeRewritten() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = edit, watch\n", null);
        org.estafeta.api.filter.SessionFilter edit = ctx -> new org.estafeta.api.filter.FilterSession() {
            @Override
            public org.estafeta.api.filter.EventVerdict header(org.estafeta.api.filter.HeaderField h) {
                if (h.is("Subject")) {
                    return org.estafeta.api.filter.EventVerdict.replaceHeader("X-Was: subject",
                            "Subject: [tagged]" + h.value().replace("\r\n", "\r\n"));
                }
                return h.is("From") ? org.estafeta.api.filter.EventVerdict.replaceHeader()
                        : org.estafeta.api.filter.EventVerdict.CONTINUE;
            }

            @Override
            public org.estafeta.api.filter.EventVerdict body(java.nio.ByteBuffer chunk) {
                byte[] b = new byte[chunk.remaining()];
                chunk.get(b);
                return new org.estafeta.api.filter.EventVerdict.Replace(
                        new String(b, StandardCharsets.UTF_8).toUpperCase(java.util.Locale.ROOT)
                                .getBytes(StandardCharsets.UTF_8));
            }
        };
        c.registerFilter("edit", edit, "org.example.edit 1.0.0");
        Recorder watch = new Recorder();
        c.registerFilter("watch", watch, "org.example.watch 1.0.0");
        String id = sendThrough(c, session(c), MESSAGE);
        String text = stored(QueueName.INCOMING, id);
        assertTrue(text.endsWith("\r\nX-Was: subject\r\nSubject: [tagged] hello\r\n  folded\r\n\r\nTHE BODY\r\n"),
                text);
        assertFalse(text.contains("From: a@example.org"), "deleted");
        assertTrue(watch.events.containsAll(List.of("header:X-Was: subject",
                "header:Subject: [tagged] hello\r\n  folded", "body:THE BODY\r\n")), watch.events.toString());
        assertFalse(watch.events.contains("header:From: a@example.org"), watch.events.toString());
    }

    @Test
    void aSessionFilterUpdatedBetweenMessagesHandlesTheNextOneAndOneGoneMidMessageDefersIt() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = tag\n", null);
        c.registerFilter("tag", new Recorder(e -> org.estafeta.api.filter.EventVerdict.CONTINUE,
                () -> new FilterVerdict.Accept(List.of(new Header("X-Tag", "1.0")))), "org.example.tag 1.0.0");
        org.estafeta.cleanup.FilterChannel f = session(c);
        String first = sendThrough(c, f, MESSAGE);
        assertTrue(stored(QueueName.INCOMING, first).contains("X-Tag: 1.0\r\n"));
        // the bundle is updated: the next transaction of the same session gets the new version
        c.unregisterFilter("tag");
        Recorder v11 = new Recorder(e -> org.estafeta.api.filter.EventVerdict.CONTINUE,
                () -> new FilterVerdict.Accept(List.of(new Header("X-Tag", "1.1"))));
        c.registerFilter("tag", v11, "org.example.tag 1.1.0");
        assertEquals(Optional.empty(), f.mail("a@example.org", Map.of()));
        assertEquals(Optional.empty(), f.rcpt("b@example.net", Map.of()));
        String second = sendThrough(c, f, MESSAGE);
        assertTrue(stored(QueueName.INCOMING, second).contains("X-Tag: 1.1\r\n"));
        assertEquals(List.of("connect:192.0.2.7", "helo:helo.example.org", "mail:a@example.org"),
                v11.events.subList(0, 3), "the new version hears CONNECT and HELO first");
        // removed while a message is received: never passed on unfiltered
        assertEquals(Optional.empty(), f.mail("a@example.org", Map.of()));
        assertEquals(Optional.empty(), f.rcpt("b@example.net", Map.of()));
        Cleanup.Stream s = c.open(submission(), null, f);
        s.write(MESSAGE.getBytes(StandardCharsets.UTF_8), 0, 10);
        c.unregisterFilter("tag");
        byte[] rest = MESSAGE.substring(10).getBytes(StandardCharsets.UTF_8);
        s.write(rest, 0, rest.length);
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class, s::commit);
        assertEquals(451, r.reply().code());
        f.close();
    }

    @Test
    void aSessionFilterStuckInAnEventIsInterruptedAndTheMessageDeferred() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = stuck\nestafeta_content_filter_timeout = 1s\n", null);
        CountDownLatch interrupted = new CountDownLatch(1);
        c.registerFilter("stuck", new Recorder(e -> {
            if (e.startsWith("header:Subject")) {
                try {
                    Thread.sleep(30_000);
                } catch (InterruptedException x) {
                    interrupted.countDown();
                }
            }
            return org.estafeta.api.filter.EventVerdict.CONTINUE;
        }, FilterVerdict::accept), "org.example.stuck 1.0.0");
        long start = System.nanoTime();
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class, () -> sendThrough(c, session(c), MESSAGE));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(451, r.reply().code());
        assertTrue(ms >= 900 && ms < 10_000, ms + " ms");
        assertTrue(interrupted.await(1, java.util.concurrent.TimeUnit.SECONDS));
        assertFalse(Thread.currentThread().isInterrupted(), "the worker is not left interrupted");
        assertTrue(queueIsEmpty());
    }

    @Test
    void localSubmissionPlaysTheCommandsToSessionFilters() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = rec\n", null);
        Recorder rec = new Recorder();
        c.registerFilter("rec", rec, "org.example.rec 1.0.0");
        send(c, MESSAGE);
        assertEquals(List.of("connect:192.0.2.7", "helo:helo.example.org", "mail:a@example.org", "rcpt:b@example.net",
                "data"), rec.events.subList(0, 5));
        assertEquals("close", rec.events.get(rec.events.size() - 1));
    }

    @Test
    void envelopeChangesReachTheQueueFileAndALaterFilterAddingBackWins() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = one, two\n", null);
        c.registerFilter("one", new Recorder(e -> org.estafeta.api.filter.EventVerdict.CONTINUE,
                () -> FilterVerdict.Modify.envelope(List.of("x@example.net", "y@example.net"),
                        List.of("b@example.net", "z@example.net"), Optional.of("new@example.org"))),
                "org.example.one 1.0.0");
        c.registerFilter("two", new Recorder(e -> org.estafeta.api.filter.EventVerdict.CONTINUE,
                () -> new FilterVerdict.Modify(List.of(), List.of(), List.of("z@example.net"), Optional.empty(),
                        List.of("y@example.net"), Optional.empty(), Optional.empty(), Optional.of("scan:[127.0.0.1]:10025"),
                        List.of())), "org.example.two 1.0.0");
        org.estafeta.cleanup.FilterChannel f = session(c);
        String id = sendThrough(c, f, MESSAGE);
        var env = store.read(QueueName.INCOMING, id).envelope();
        assertEquals("new@example.org", env.sender());
        List<String> pending = env.recipients().stream()
                .filter(r -> r.status() == org.estafeta.queue.Envelope.Status.PENDING)
                .map(org.estafeta.queue.Envelope.Recipient::address).toList();
        assertEquals(List.of("x@example.net", "z@example.net"), pending, env.recipients().toString());
        assertEquals(Optional.of("scan:[127.0.0.1]:10025"), env.actions().stream()
                .filter(a -> a.name().equals("filter")).map(org.estafeta.queue.Envelope.Action::value).findFirst());
        f.close();
    }

    @Test
    void aSessionFilterFailingAtRcptTempfailsThatRecipientOrIsLeftOutWhenItFailsOpen() throws Exception {
        java.util.function.Function<String, org.estafeta.api.filter.EventVerdict> broken = e -> {
            if (e.startsWith("rcpt:")) {
                throw new IllegalStateException("lost its database");
            }
            return org.estafeta.api.filter.EventVerdict.CONTINUE;
        };
        CleanupService closed = cleanup("estafeta_content_filters = db\n", null);
        closed.registerFilter("db", new Recorder(broken, FilterVerdict::accept), "org.example.db 1.0.0");
        org.estafeta.cleanup.FilterChannel f = closed.filters(null).orElseThrow();
        f.connect(CLIENT);
        f.mail("a@example.org", Map.of());
        assertEquals(SessionChain.TEMPFAIL, f.rcpt("b@example.net", Map.of()).orElseThrow().reply());
        f.close();
        stop();

        CleanupService open = cleanup("estafeta_content_filters = db, tag\nestafeta_content_filter_fail_open = db\n",
                null);
        open.registerFilter("db", new Recorder(broken, FilterVerdict::accept), "org.example.db 1.0.0");
        open.registerFilter("tag", (e, content, ctx) -> new FilterVerdict.Accept(List.of(new Header("X-Tag", "yes"))),
                "org.example.tag 1.0.0");
        f = open.filters(null).orElseThrow();
        assertEquals(Optional.empty(), f.connect(CLIENT));
        assertEquals(Optional.empty(), f.mail("a@example.org", Map.of()));
        assertEquals(Optional.empty(), f.rcpt("b@example.net", Map.of()), "failing open: the recipient is fine");
        String id = sendThrough(open, f, MESSAGE);
        assertTrue(stored(QueueName.INCOMING, id).contains("X-Tag: yes\r\n"), "the other filter still ran");
        f.close();
    }

    @Test
    void aRefusalOfDataIsThrownFromOpenForSmtpdAndAtCommitForLocalSubmission() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = gate\n", null);
        Reply no = Reply.reject(554, "5.7.1", "no data");
        Recorder gate = new Recorder(e -> e.equals("data") ? new org.estafeta.api.filter.EventVerdict.Reject(no)
                : org.estafeta.api.filter.EventVerdict.CONTINUE, FilterVerdict::accept);
        c.registerFilter("gate", gate, "org.example.gate 1.0.0");
        org.estafeta.cleanup.FilterChannel f = session(c);
        Cleanup.RefusedAtOpen r = assertThrows(Cleanup.RefusedAtOpen.class, () -> c.open(submission(), null, f));
        assertEquals(no, r.reply());
        assertTrue(gate.events.contains("abort"), "the filters heard the message end: " + gate.events);
        f.close();
        // local submission (cleanup plays the commands): the refusal comes at commit
        Cleanup.Rejected local = assertThrows(Cleanup.Rejected.class, () -> send(c, MESSAGE));
        assertEquals(no, local.reply());
        assertTrue(queueIsEmpty());
    }

    @Test
    void aSessionFilterStuckInAbortOrCloseDoesNotKeepTheWorker() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = sticky\nestafeta_content_filter_timeout = 1s\n", null);
        CountDownLatch interrupted = new CountDownLatch(2);
        org.estafeta.api.filter.SessionFilter sticky = ctx -> new org.estafeta.api.filter.FilterSession() {
            private void hang() {
                try {
                    Thread.sleep(30_000);
                } catch (InterruptedException x) {
                    interrupted.countDown();
                }
            }

            @Override
            public void abort() {
                hang();
            }

            @Override
            public void close() {
                hang();
            }
        };
        c.registerFilter("sticky", sticky, "org.example.sticky 1.0.0");
        org.estafeta.cleanup.FilterChannel f = session(c);
        long start = System.nanoTime();
        f.reset();
        f.close(); // ABORT of the open transaction, then close: each cut off after the timeout
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms >= 1800 && ms < 10_000, ms + " ms");
        assertTrue(interrupted.await(1, java.util.concurrent.TimeUnit.SECONDS));
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void droppedHeadersAreNotShownToFilters() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = rec\n", null);
        Recorder rec = new Recorder();
        c.registerFilter("rec", rec, "org.example.rec 1.0.0");
        String id = sendThrough(c, session(c), "Return-Path: <x@example.org>\r\n" + MESSAGE);
        assertFalse(rec.events.stream().anyMatch(e -> e.startsWith("header:Return-Path")), rec.events.toString());
        assertFalse(stored(QueueName.INCOMING, id).contains("Return-Path"));
    }

    @Test
    void tlsAndAuthenticationReachTheFiltersBeforeTheNextEventAndALateVersionToo() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = rec\n", null);
        Recorder rec = new Recorder();
        c.registerFilter("rec", rec, "org.example.rec 1.0.0");
        org.estafeta.cleanup.FilterChannel f = c.filters(null).orElseThrow();
        f.connect(CLIENT);
        f.tls(new org.estafeta.api.filter.TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, Optional.empty(),
                Optional.empty()));
        assertEquals(List.of("connect:192.0.2.7"), rec.events, "nothing until the next event");
        f.helo("helo.example.org");
        f.authenticated("PLAIN", "ana");
        f.mail("a@example.org", Map.of());
        assertEquals(List.of("connect:192.0.2.7", "tls:TLSv1.3", "helo:helo.example.org", "auth:PLAIN:ana",
                "mail:a@example.org"), rec.events);
        // a new version of the filter joins at the next MAIL: it hears the session's facts after CONNECT
        c.unregisterFilter("rec");
        Recorder v2 = new Recorder();
        c.registerFilter("rec", v2, "org.example.rec 2.0.0");
        f.reset();
        f.mail("b@example.org", Map.of());
        assertEquals(List.of("connect:192.0.2.7", "tls:TLSv1.3", "auth:PLAIN:ana", "helo:helo.example.org",
                "mail:b@example.org"), v2.events);
        f.close();
    }

    @Test
    void aHoldWithChangesIsHeldWithTheChangesApplied() throws Exception {
        CleanupService c = cleanup("estafeta_content_filters = q\n", null);
        c.registerFilter("q", new Recorder(e -> org.estafeta.api.filter.EventVerdict.CONTINUE,
                () -> new FilterVerdict.Hold("quarantined", Optional.of(new FilterVerdict.Modify(
                        List.of(new Header("X-Quarantine", "yes")),
                        List.of(new org.estafeta.api.filter.HeaderEdit("Subject", 1, Optional.of(" [held] hello"))),
                        List.of(), Optional.empty())))), "org.example.q 1.0.0");
        String id = sendThrough(c, session(c), MESSAGE);
        String text = stored(QueueName.HOLD, id);
        assertTrue(text.contains("X-Quarantine: yes\r\n") && text.contains("Subject: [held] hello\r\n"), text);
    }
}
