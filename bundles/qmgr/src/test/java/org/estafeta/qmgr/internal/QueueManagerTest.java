package org.estafeta.qmgr.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.Transport;
import org.estafeta.bounce.Bouncer;
import org.estafeta.bounce.Notice;
import org.estafeta.config.MasterEntry;
import org.estafeta.queue.Envelope;
import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.QueueAdmin;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.estafeta.rewrite.AddressResolver;
import org.estafeta.rewrite.Resolution;
import org.estafeta.rewrite.ResolutionException;
import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The queue manager against a real file queue, with scripted transports, resolver and bouncer. */
class QueueManagerTest {
    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-24T10:00:00Z"));
    private final List<Notice> notices = new CopyOnWriteArrayList<>();
    /** The original as the bouncer could read it during notify(). */
    private final List<String> returned = new CopyOnWriteArrayList<>();
    private final Map<String, Transport> transports = new ConcurrentHashMap<>();
    private volatile IOException bounceFailure;
    private QueueManager qm;
    private FileQueueStore store;

    /** Domain → service: "ok.example" goes to smtp, "local.example" to local, "nowhere.example" to a service without master.cf entry. */
    private final AddressResolver resolver = (config, sender, rcpt) -> {
        String domain = rcpt.substring(rcpt.indexOf('@') + 1);
        if (domain.equals("broken.example")) {
            throw new ResolutionException("transport_maps lookup failure");
        }
        String service = switch (domain) {
            case "local.example" -> "local";
            case "nowhere.example" -> "nowhere";
            case "relay.example" -> "relay";
            default -> "smtp";
        };
        return new Resolution(Resolution.AddressClass.DEFAULT, service, domain, rcpt);
    };

    private final Bouncer bouncer = notice -> {
        if (bounceFailure != null) {
            throw bounceFailure;
        }
        try (InputStream in = notice.content().open()) {
            returned.add(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        }
        notices.add(notice);
        return Optional.of("BOUNCEID");
    };

    @AfterEach
    void stop() {
        if (qm != null) {
            qm.stop();
        }
    }

    private FakeSnapshot config(String... extra) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("queue_run_delay", "300s");
        p.put("minimal_backoff_time", "300s");
        p.put("maximal_backoff_time", "4000s");
        p.put("maximal_queue_lifetime", "5d");
        p.put("bounce_queue_lifetime", "5d");
        p.put("delay_warning_time", "0h");
        p.put("qmgr_message_active_limit", "20000");
        p.put("default_destination_concurrency_limit", "20");
        p.put("default_destination_recipient_limit", "50");
        p.put("local_destination_recipient_limit", "1");
        p.put("default_process_limit", "100");
        p.put("mydestination", "local.example");
        for (int i = 0; i < extra.length; i += 2) {
            p.put(extra[i], extra[i + 1]);
        }
        List<MasterEntry> services = List.of(
                FakeSnapshot.entry("smtp", "unix", "smtp", Map.of()),
                new MasterEntry("relay", "unix", "-", "-", "n", "-", "2", "smtp", Map.of("smtp_helo_name", "relay.helo"),
                        List.of(), "master.cf", 2),
                FakeSnapshot.entry("local", "unix", "local", Map.of()));
        return new FakeSnapshot(p, services, 1);
    }

    private void start(FakeSnapshot config) throws IOException {
        store = store == null ? new FileQueueStore(dir) : store;
        qm = new QueueManager(config, store, resolver, bouncer,
                name -> Optional.ofNullable(transports.get(name)), clock);
        qm.start();
    }

    private String queue(String sender, List<String> rcpts, Map<String, List<String>> notify) throws IOException {
        return queue(sender, rcpts, notify, List.of());
    }

    private String queue(String sender, List<String> rcpts, Map<String, List<String>> notify,
            List<Envelope.Action> actions) throws IOException {
        return queue(sender, rcpts, notify, actions, Envelope.Extracted.NONE);
    }

    private String queue(String sender, List<String> rcpts, Map<String, List<String>> notify,
            List<Envelope.Action> actions, Envelope.Extracted extracted) throws IOException {
        store = store == null ? new FileQueueStore(dir) : store;
        List<Envelope.Recipient> r = new ArrayList<>();
        for (String a : rcpts) {
            r.add(new Envelope.Recipient(a, notify.getOrDefault(a, List.of()), Optional.empty(), Envelope.Status.PENDING));
        }
        Instant now = clock.instant();
        Envelope env = new Envelope(now.getEpochSecond() * 1_000_000, sender, Map.of("RET", "HDRS"), r,
                new Envelope.Client("127.0.0.1", "localhost", "client.example", "ESMTP"), actions);
        QueueStore.Writer w = store.create(env);
        byte[] content = "Subject: test\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        w.write(content, 0, content.length);
        w.commit(QueueName.INCOMING, extracted);
        return w.id();
    }

    private String queue(String... rcpts) throws IOException {
        return queue("sender@example.org", List.of(rcpts), Map.of());
    }

    /** A transport that answers per recipient domain and records every request. */
    private final class Scripted implements Transport {
        final List<DeliveryRequest> requests = new CopyOnWriteArrayList<>();
        final Function<String, RecipientResult> answer;

        Scripted(Function<String, RecipientResult> answer) {
            this.answer = answer;
        }

        @Override
        public List<RecipientResult> deliver(DeliveryRequest request, org.estafeta.api.plugin.PluginContext context) {
            requests.add(request);
            try (InputStream in = request.content().openMessage()) {
                in.readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return request.recipients().stream().map(answer).toList();
        }
    }

    private static RecipientResult ok(String r) {
        return RecipientResult.delivered(r, new Reply(250, "2.0.0", "250 2.0.0 Ok: queued as X"), "mx[192.0.2.1]:25");
    }

    private static RecipientResult later(String r) {
        return RecipientResult.deferred(r, Reply.tempfail(450, "4.2.0", "host mx[192.0.2.1] said: 450 try later"),
                "mx[192.0.2.1]:25");
    }

    private static RecipientResult never(String r) {
        return RecipientResult.bounced(r, Reply.reject(550, "5.1.1", "host mx[192.0.2.1] said: 550 5.1.1 unknown"),
                "mx[192.0.2.1]:25");
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(10);
        }
    }

    private boolean in(QueueName q, String id) {
        try {
            return store.list(q).contains(id);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private boolean queueEmpty() {
        try {
            for (QueueName q : List.of(QueueName.INCOMING, QueueName.ACTIVE, QueueName.DEFERRED)) {
                if (!store.list(q).isEmpty()) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ tests

    @Test
    void deliversGroupsByDestinationAndRemovesTheMessage() throws Exception {
        Scripted smtp = new Scripted(QueueManagerTest::ok);
        transports.put("smtp", smtp);
        start(config("default_destination_recipient_limit", "2"));
        String id = queue("a@ok.example", "b@ok.example", "c@ok.example", "d@other.example");
        await("removed", () -> queueEmpty() && smtp.requests.size() == 3);
        Map<String, List<List<String>>> byNexthop = new LinkedHashMap<>();
        for (DeliveryRequest r : smtp.requests) {
            assertEquals(id, r.envelope().queueId());
            assertEquals("smtp", r.service());
            assertEquals(Map.of("RET", "HDRS"), r.mailParameters());
            byNexthop.computeIfAbsent(r.nexthop(), k -> new ArrayList<>()).add(r.recipients());
        }
        List<List<String>> ok = byNexthop.get("ok.example");
        Collections.sort(ok, (x, y) -> Integer.compare(y.size(), x.size()));
        assertEquals(List.of(List.of("a@ok.example", "b@ok.example"), List.of("c@ok.example")), ok,
                "split at the recipient limit, in order");
        assertEquals(List.of(List.of("d@other.example")), byNexthop.get("other.example"));
        assertTrue(notices.isEmpty());
    }

    @Test
    void deferredRecipientsWaitTheBackoffAndDoneOnesAreNotDeliveredAgain() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        Scripted smtp = new Scripted(r -> r.startsWith("soft") && attempts.get() < 2 ? later(r) : ok(r));
        transports.put("smtp", smtp);
        start(config());
        String id = queue("hard@ok.example", "soft@ok.example");
        await("deferred", () -> in(QueueName.DEFERRED, id));
        attempts.incrementAndGet();
        assertEquals(clock.instant().plusSeconds(300), store.nextAttempt(QueueName.DEFERRED, id),
                "young message: minimal_backoff_time");
        assertEquals(Map.of("soft@ok.example", "host mx[192.0.2.1] said: 450 try later"), store.deferrals(id));
        qm.kick();
        Thread.sleep(200);
        assertTrue(in(QueueName.DEFERRED, id), "not due yet: stays deferred");
        assertEquals(1, smtp.requests.size());

        clock.advance(Duration.ofSeconds(301));
        attempts.incrementAndGet();
        qm.kick();
        await("delivered", this::queueEmpty);
        assertEquals(2, smtp.requests.size());
        assertEquals(List.of("soft@ok.example"), smtp.requests.get(1).recipients(),
                "the recipient delivered the first time is not sent again");
    }

    @Test
    void backoffGrowsWithTheMessageAgeUpToTheMaximum() throws Exception {
        transports.put("smtp", new Scripted(QueueManagerTest::later));
        start(config());
        String id = queue("x@ok.example");
        await("deferred", () -> in(QueueName.DEFERRED, id));
        clock.advance(Duration.ofSeconds(1000));
        qm.kick();
        await("deferred again", () -> {
            try {
                return in(QueueName.DEFERRED, id)
                        && store.nextAttempt(QueueName.DEFERRED, id).equals(clock.instant().plusSeconds(1000));
            } catch (IOException e) {
                return false;
            }
        });
        clock.advance(Duration.ofSeconds(10_000));
        qm.kick();
        await("capped at maximal_backoff_time", () -> {
            try {
                return in(QueueName.DEFERRED, id)
                        && store.nextAttempt(QueueName.DEFERRED, id).equals(clock.instant().plusSeconds(4000));
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void bouncesGoToTheSenderAndTheMessageIsRemoved() throws Exception {
        transports.put("smtp", new Scripted(r -> r.startsWith("bad") ? never(r) : ok(r)));
        start(config());
        String id = queue("good@ok.example", "bad@ok.example");
        await("removed", this::queueEmpty);
        assertEquals(1, notices.size());
        Notice n = notices.get(0);
        assertEquals(Notice.Kind.FAILURE, n.kind());
        assertEquals(id, n.queueId());
        assertEquals("sender@example.org", n.sender());
        assertEquals(1, n.recipients().size());
        Notice.RecipientStatus s = n.recipients().get(0);
        assertEquals("bad@ok.example", s.address());
        assertEquals("5.1.1", s.status());
        assertEquals(Optional.of("mx[192.0.2.1]:25"), s.remoteMta());
        assertEquals("550 5.1.1 unknown", s.diagnostic(), "the remote's bare reply");
        assertTrue(returned.get(0).startsWith("Subject: test"), returned.get(0));
    }

    @Test
    void aBounceThatCannotBeQueuedKeepsTheMessage() throws Exception {
        transports.put("smtp", new Scripted(QueueManagerTest::never));
        bounceFailure = new IOException("No space left on device");
        start(config());
        String id = queue("bad@ok.example");
        Thread.sleep(500);
        await("kept", () -> in(QueueName.ACTIVE, id) || in(QueueName.DEFERRED, id));
        assertTrue(store.read(QueueName.ACTIVE, id).envelope().recipients().get(0).status() == Envelope.Status.PENDING,
                "the bounced recipient is still pending, so the bounce is sent later");
        assertTrue(notices.isEmpty());
    }

    @Test
    void expiredMailIsReturnedToTheSender() throws Exception {
        transports.put("smtp", new Scripted(QueueManagerTest::later));
        start(config("maximal_queue_lifetime", "1h"));
        String id = queue("x@ok.example");
        await("deferred", () -> in(QueueName.DEFERRED, id));
        assertTrue(notices.isEmpty());
        clock.advance(Duration.ofHours(2));
        qm.kick();
        await("returned", this::queueEmpty);
        assertEquals(1, notices.size());
        assertEquals("4.2.0", notices.get(0).recipients().get(0).status(), "the last deferral reason is reported");
    }

    @Test
    void oneDelayWarningOnceTheMessageIsOlderThanDelayWarningTime() throws Exception {
        transports.put("smtp", new Scripted(QueueManagerTest::later));
        start(config("delay_warning_time", "4h"));
        String id = queue("x@ok.example");
        await("deferred", () -> in(QueueName.DEFERRED, id));
        assertTrue(notices.isEmpty(), "young: no warning yet");
        clock.advance(Duration.ofHours(5));
        qm.kick();
        await("warned", () -> notices.size() == 1);
        assertEquals(Notice.Kind.DELAY, notices.get(0).kind());
        assertEquals("4.2.0", notices.get(0).recipients().get(0).status());
        await("deferred again", () -> in(QueueName.DEFERRED, id));
        clock.advance(Duration.ofHours(2));
        qm.kick();
        Thread.sleep(300);
        await("deferred a third time", () -> {
            try {
                return in(QueueName.DEFERRED, id) && store.nextAttempt(QueueName.DEFERRED, id).isAfter(clock.instant());
            } catch (IOException e) {
                return false;
            }
        });
        assertEquals(1, notices.size(), "the warning is sent once");
        assertEquals(Map.of("x@ok.example", "host mx[192.0.2.1] said: 450 try later"),
                new QueueAdmin(dir).scan().entries().get(0).recipients().stream()
                        .collect(java.util.stream.Collectors.toMap(QueueAdmin.Recipient::address, QueueAdmin.Recipient::reason)),
                "postqueue -p shows only the recipients");
    }

    @Test
    void aMissingTransportDefersUntilItsBundleComes() throws Exception {
        start(config());
        String id = queue("x@ok.example", "y@nowhere.example");
        await("deferred", () -> in(QueueName.DEFERRED, id));
        Map<String, String> why = store.deferrals(id);
        assertEquals("mail transport unavailable", why.get("x@ok.example"));
        assertEquals("mail transport unavailable", why.get("y@nowhere.example"), "no master.cf entry: deferred too");
        Scripted smtp = new Scripted(QueueManagerTest::ok);
        transports.put("smtp", smtp);
        qm.transportArrived(); // what QmgrDaemon calls when a Transport service registers
        await("x delivered, y still deferred", () -> smtp.requests.size() == 1 && in(QueueName.DEFERRED, id));
        assertTrue(notices.isEmpty(), "never bounced for a missing transport");
    }

    @Test
    void aTransportThatThrowsOrForgetsARecipientDefersIt() throws Exception {
        transports.put("smtp", (request, context) -> {
            if (request.recipients().contains("boom@ok.example")) {
                throw new IllegalStateException("plugin bug");
            }
            return List.of(); // forgets everyone
        });
        start(config());
        String id = queue("boom@ok.example", "x@other.example");
        await("deferred", () -> in(QueueName.DEFERRED, id));
        assertEquals("unknown mail transport error", store.deferrals(id).get("boom@ok.example"));
        assertEquals("unknown mail transport error", store.deferrals(id).get("x@other.example"));
    }

    @Test
    void resolutionFailuresDeferOnlyTheirRecipient() throws Exception {
        Scripted smtp = new Scripted(QueueManagerTest::ok);
        transports.put("smtp", smtp);
        start(config());
        String id = queue("x@broken.example", "y@ok.example");
        await("deferred", () -> in(QueueName.DEFERRED, id));
        assertEquals(Map.of("x@broken.example", "transport_maps lookup failure"), store.deferrals(id));
        assertTrue(notices.isEmpty());
        assertEquals(List.of("y@ok.example"), smtp.requests.get(0).recipients());
    }

    @Test
    void concurrencyPerDestinationAndMaxprocPerServiceAreRespected() throws Exception {
        AtomicInteger now = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        Transport slow = (request, context) -> {
            peak.accumulateAndGet(now.incrementAndGet(), Math::max);
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            now.decrementAndGet();
            return request.recipients().stream().map(QueueManagerTest::ok).toList();
        };
        transports.put("smtp", slow);
        start(config("default_destination_concurrency_limit", "3"));
        for (int i = 0; i < 8; i++) {
            queue("x" + i + "@relay.example"); // relay: maxproc 2 in master.cf
            queue("y" + i + "@ok.example"); // smtp: concurrency 3 per destination
        }
        await("saturated", () -> now.get() == 5);
        Thread.sleep(300);
        assertEquals(5, now.get(), "2 relay (maxproc) + 3 ok.example (destination limit)");
        release.countDown();
        await("all delivered", this::queueEmpty);
        assertEquals(5, peak.get());
    }

    @Test
    void theServiceSnapshotCarriesTheMasterCfOverrides() throws Exception {
        List<String> helo = new CopyOnWriteArrayList<>();
        transports.put("smtp", (request, context) -> {
            helo.add(request.service() + ":" + context.parameter("smtp_helo_name").orElse("-"));
            return request.recipients().stream().map(QueueManagerTest::ok).toList();
        });
        start(config("smtp_helo_name", "main.helo"));
        queue("a@relay.example");
        queue("b@ok.example");
        await("both", () -> helo.size() == 2);
        assertEquals(Set.of("relay:relay.helo", "smtp:main.helo"), Set.copyOf(helo));
    }

    @Test
    void successNotificationsWhenAsked() throws Exception {
        transports.put("smtp", new Scripted(QueueManagerTest::ok));
        start(config());
        queue("s@example.org", List.of("a@ok.example", "b@ok.example"), Map.of("a@ok.example", List.of("SUCCESS")));
        await("removed", this::queueEmpty);
        await("notice", () -> notices.size() == 1);
        assertEquals(Notice.Kind.SUCCESS, notices.get(0).kind());
        assertEquals(List.of("a@ok.example"), notices.get(0).recipients().stream().map(Notice.RecipientStatus::address).toList());
    }

    @Test
    void filterAndRedirectActionsRouteEveryRecipient() throws Exception {
        Scripted smtp = new Scripted(QueueManagerTest::ok);
        transports.put("smtp", smtp);
        start(config("myhostname", "gw.example"));
        queue("s@example.org", List.of("a@ok.example", "b@other.example"), Map.of(),
                List.of(new Envelope.Action("filter", "relay:[127.0.0.1]:10025")));
        queue("s@example.org", List.of("c@ok.example"), Map.of(), List.of(new Envelope.Action("filter", "smtp:")));
        queue("s@example.org", List.of("d@ok.example", "e@other.example"), Map.of(),
                List.of(new Envelope.Action("redirect", "trap@quarantine.example")));
        await("all delivered", () -> queueEmpty() && smtp.requests.size() == 3);
        Map<String, String> seen = new java.util.TreeMap<>();
        for (DeliveryRequest r : smtp.requests) {
            seen.put(String.join(",", r.recipients()), r.service() + " " + r.nexthop());
        }
        assertEquals(Map.of("a@ok.example,b@other.example", "relay [127.0.0.1]:10025",
                "c@ok.example", "smtp ok.example",
                "trap@quarantine.example", "smtp quarantine.example"), seen,
                "FILTER: one batch to the filter, recipients unchanged; REDIRECT: one copy to the new address");
    }

    @Test
    void extractedRecordsOfHeaderChecksOverrideAndAddRecipients() throws Exception {
        Scripted smtp = new Scripted(QueueManagerTest::ok);
        transports.put("smtp", smtp);
        start(config("myhostname", "gw.example"));
        Envelope.Recipient bcc = new Envelope.Recipient("audit@ok.example", List.of("NEVER"), Optional.empty(),
                Envelope.Status.PENDING);
        // content_filter in the envelope, a header FILTER after the content: the last one wins
        queue("s@example.org", List.of("a@ok.example"), Map.of(),
                List.of(new Envelope.Action("filter", "smtp:[127.0.0.1]:10025")),
                new Envelope.Extracted(List.of(new Envelope.Action("filter", "relay:[127.0.0.2]:10026")), List.of()));
        // a header REDIRECT overrides the FILTER and all recipients, BCC recipients included: one delivery
        queue("s@example.org", List.of("b@ok.example", "c@other.example"), Map.of(),
                List.of(new Envelope.Action("filter", "relay:[127.0.0.1]:10025")),
                new Envelope.Extracted(List.of(new Envelope.Action("redirect", "boss@other.example")), List.of(bcc)));
        // a BCC recipient is delivered as any other, with NOTIFY=NEVER
        queue("s@example.org", List.of("d@ok.example"), Map.of(), List.of(),
                new Envelope.Extracted(List.of(), List.of(bcc)));
        await("all delivered", () -> queueEmpty() && smtp.requests.size() == 3);
        Map<String, String> seen = new java.util.TreeMap<>();
        for (DeliveryRequest r : smtp.requests) {
            seen.put(String.join(",", r.recipients()), r.service() + " " + r.nexthop() + " "
                    + r.recipientParameters());
        }
        assertEquals(Map.of("a@ok.example", "relay [127.0.0.2]:10026 {}",
                "boss@other.example", "smtp other.example {}",
                "d@ok.example,audit@ok.example", "smtp ok.example {audit@ok.example={NOTIFY=NEVER}}"), seen);
    }

    @Test
    void aContentFiltersSenderChangeAndRemovedRecipientsAreTheEnvelopeDeliveredAndBounced() throws Exception {
        Scripted smtp = new Scripted(r -> r.startsWith("bad") ? never(r) : ok(r));
        transports.put("smtp", smtp);
        start(config());
        Envelope.Recipient bcc = new Envelope.Recipient("bcc@ok.example", List.of("NEVER"), Optional.empty(),
                Envelope.Status.PENDING);
        String id = queue("orig@example.org",
                List.of("a@ok.example", "gone@ok.example", "bad@ok.example", "bad-gone@ok.example"), Map.of(),
                List.of(), new Envelope.Extracted(List.of(
                        new Envelope.Action(Envelope.Extracted.SENDER, "new@example.org"),
                        new Envelope.Action(Envelope.Extracted.REMOVE, "GONE@ok.example"),
                        new Envelope.Action(Envelope.Extracted.REMOVE, "bad-gone@ok.example"),
                        new Envelope.Action(Envelope.Extracted.REMOVE, "bcc@ok.example")), List.of(bcc)));
        // every recipient removed: nothing to deliver, the file goes
        queue("orig@example.org", List.of("x@ok.example"), Map.of(), List.of(), new Envelope.Extracted(
                List.of(new Envelope.Action(Envelope.Extracted.REMOVE, "x@ok.example")), List.of()));
        await("both removed, one bounce", () -> queueEmpty() && notices.size() == 1);
        assertEquals(1, smtp.requests.size(), "one delivery, none for the message without recipients");
        DeliveryRequest r = smtp.requests.get(0);
        assertEquals(id, r.envelope().queueId());
        assertEquals("new@example.org", r.envelope().sender());
        assertEquals(List.of("a@ok.example", "bad@ok.example"), r.recipients());
        Notice n = notices.get(0);
        assertEquals(Notice.Kind.FAILURE, n.kind());
        assertEquals("new@example.org", n.sender(), "the bounce goes to the changed sender");
        assertEquals(List.of("bad@ok.example"), n.recipients().stream().map(Notice.RecipientStatus::address).toList(),
                "a removed recipient is never in a DSN");
    }

    @Test
    void leftoversInActiveGoBackToIncomingAtStart() throws Exception {
        store = new FileQueueStore(dir);
        String id = queue("x@ok.example");
        store.move(QueueName.INCOMING, id, QueueName.ACTIVE);
        Scripted smtp = new Scripted(QueueManagerTest::ok);
        transports.put("smtp", smtp);
        start(config());
        await("delivered", this::queueEmpty);
        assertEquals(1, smtp.requests.size());
    }

    @Test
    void corruptFilesAreSetAside() throws Exception {
        store = new FileQueueStore(dir);
        String id = queue("x@ok.example");
        java.nio.file.Files.writeString(dir.resolve("incoming").resolve(id), "garbage");
        transports.put("smtp", new Scripted(QueueManagerTest::ok));
        start(config());
        await("in corrupt/", () -> in(QueueName.CORRUPT, id));
        assertFalse(in(QueueName.INCOMING, id));
    }

    // ------------------------------------------------------------------ fakes

    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
