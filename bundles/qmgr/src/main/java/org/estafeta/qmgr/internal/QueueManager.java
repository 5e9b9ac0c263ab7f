package org.estafeta.qmgr.internal;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.Transport;
import org.estafeta.bounce.Bouncer;
import org.estafeta.bounce.Notice;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.config.SnapshotPluginContext;
import org.estafeta.master.daemon.DaemonInstance;
import org.estafeta.queue.Envelope;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.estafeta.rewrite.AddressResolver;
import org.estafeta.rewrite.Resolution;
import org.estafeta.rewrite.ResolutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue manager: moves mail from {@code incoming/} (and, when due, {@code deferred/}) into {@code active/},
 * resolves each recipient to a transport and next hop, hands batches to transports within the per-destination
 * concurrency and recipient limits and master.cf's maxproc, and acts on the results: delivered and bounced
 * recipients are marked done, bounces go to the sender through the bounce service, deferred mail goes to
 * {@code deferred/} with Postfix's back-off (the message's age, clamped to {@code minimal_backoff_time} ..
 * {@code maximal_backoff_time}) until {@code maximal_queue_lifetime} returns it to the sender.
 *
 * <p><b>Threads:</b> all scheduling state belongs to one scheduler thread; file work (moves, reads, table
 * lookups), deliveries and bounces run on a worker pool and post their outcome back. A message leaves
 * {@code active/} only after every batch has a result, so a crash at any point leaves it in {@code active/}, which
 * start-up recovery returns to {@code incoming/}: a message is delivered at least once, never lost.
 */
final class QueueManager implements DaemonInstance {
    private static final Logger log = LoggerFactory.getLogger("qmgr");
    /** How often incoming/ is rescanned when no commit event arrived (a file dropped in by hand, a missed event). */
    private static final long INCOMING_RESCAN_MILLIS = 1000;
    private static final long STOP_WAIT_MILLIS = 30_000;
    /** The deferral-record key that says the delay warning was sent (a space: never an address). */
    static final String DELAY_WARNED = " delay warning sent";
    static final Reply TRANSPORT_UNAVAILABLE = Reply.tempfail(451, "4.3.0", "mail transport unavailable");

    private final ConfigSnapshot config;
    private final QueueStore store;
    private final AddressResolver resolver;
    private final Bouncer bouncer;
    private final Function<String, Optional<Transport>> transports;
    private final java.time.Clock clock;

    private final ScheduledExecutorService scheduler;
    private final ExecutorService workers;
    private final ConcurrentLinkedQueue<String> committed = new ConcurrentLinkedQueue<>();
    private AutoCloseable commitListener;
    private volatile boolean stopping;

    // ---- owned by the scheduler thread ----
    private final Map<String, ActiveMessage> active = new HashMap<>();
    private final Set<String> loading = new HashSet<>();
    /** Messages asked for while their previous attempt was finishing, and where they were asked for. */
    private final Map<String, QueueName> reloadAfterRetire = new HashMap<>();
    /** Set during a flush (postqueue -f): deferred mail is due whatever its time. */
    private boolean flushAll;
    private final Map<Destination, ArrayDeque<Batch>> waiting = new LinkedHashMap<>();
    private final Map<Destination, Integer> busyByDestination = new HashMap<>();
    private final Map<String, Integer> busyByService = new HashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();

    QueueManager(ConfigSnapshot config, QueueStore store, AddressResolver resolver, Bouncer bouncer,
            Function<String, Optional<Transport>> transports) {
        this(config, store, resolver, bouncer, transports, java.time.Clock.systemUTC());
    }

    QueueManager(ConfigSnapshot config, QueueStore store, AddressResolver resolver, Bouncer bouncer,
            Function<String, Optional<Transport>> transports, java.time.Clock clock) {
        this.config = config;
        this.store = store;
        this.resolver = resolver;
        this.bouncer = bouncer;
        this.transports = transports;
        this.clock = clock;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(named("estafeta-qmgr", false));
        this.workers = Executors.newCachedThreadPool(named("estafeta-qmgr-worker", true));
    }

    private static ThreadFactory named(String prefix, boolean numbered) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, numbered ? prefix + "-" + n.incrementAndGet() : prefix);
            t.setDaemon(true);
            return t;
        };
    }

    // ------------------------------------------------------------------ lifecycle

    /** Returns mail left in active/ by an earlier instance to incoming/, then starts scanning. */
    void start() throws IOException {
        for (String id : store.list(QueueName.ACTIVE)) {
            if (store.move(QueueName.ACTIVE, id, QueueName.INCOMING)) {
                log.info("{}: requeued from active to incoming", id);
            }
        }
        commitListener = store.onCommit((q, id) -> {
            if (q == QueueName.INCOMING) {
                committed.add(id);
                submit(this::drainCommitted);
            }
        });
        scheduler.scheduleWithFixedDelay(() -> guard(this::scanIncoming), 0, INCOMING_RESCAN_MILLIS,
                TimeUnit.MILLISECONDS);
        long runDelay = Math.max(1, config.seconds("queue_run_delay"));
        scheduler.scheduleWithFixedDelay(() -> guard(this::scanDeferred), 0, runDelay, TimeUnit.SECONDS);
    }

    @Override
    public void stop() {
        stopping = true;
        try {
            if (commitListener != null) {
                commitListener.close();
            }
        } catch (Exception e) {
            log.warn("closing the commit listener: {}", e.toString());
        }
        scheduler.shutdownNow();
        workers.shutdown();
        try {
            // deliveries in flight finish (transports bound their own waits); their messages stay in active/ and
            // go back to incoming/ at the next start
            if (!workers.awaitTermination(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                log.warn("stopping with {} deliveries still running; their mail is retried after the restart",
                        inFlight.get());
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String describe() {
        return "qmgr: " + active.size() + " messages active, " + inFlight.get() + " deliveries in progress";
    }

    /** For tests: runs the scheduled scans now (deferred mail only when due) and waits until they ran. */
    void kick() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        submit(() -> {
            scanDeferredNow(false);
            scanIncoming();
            done.countDown();
        });
        done.await(10, TimeUnit.SECONDS);
    }

    /** {@code postqueue -f}: every deferred message is due now. */
    void flush() {
        submit(() -> scanDeferredNow(true));
    }

    /**
     * A Transport service arrived (its bundle was started or deployed): mail deferred only because a transport was
     * unavailable is due now, so that a gateway that starts (transports register a moment after the queue
     * manager) or a transport bundle that is replaced does not leave it waiting for a whole back-off period.
     */
    void transportArrived() {
        submit(() -> {
            List<String> ids;
            try {
                ids = store.list(QueueName.DEFERRED);
            } catch (IOException e) {
                log.warn("scan deferred: {}", e.toString());
                return;
            }
            for (String id : ids) {
                try {
                    if (room() && store.deferrals(id).containsValue(TRANSPORT_UNAVAILABLE.text())) {
                        load(QueueName.DEFERRED, id);
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        });
    }

    /** {@code postqueue -i ID}: the message is due now if it is deferred. */
    void flush(String id) {
        submit(() -> {
            if (org.estafeta.queue.QueueId.isValid(id) && room() && inQueue(QueueName.DEFERRED, id)) {
                load(QueueName.DEFERRED, id);
            }
        });
    }

    /** Whether {@code id} is in {@code queue} now: one stat, not a directory listing. */
    private boolean inQueue(QueueName queue, String id) {
        try {
            store.nextAttempt(queue, id);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void submit(Runnable task) {
        if (stopping) {
            return;
        }
        try {
            scheduler.execute(() -> guard(task));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping
        }
    }

    private void work(Runnable task) {
        if (stopping && workers.isShutdown()) {
            return;
        }
        try {
            workers.execute(() -> guard(task));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping: the message stays where it is and is picked up after the restart
        }
    }

    private static void guard(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException | Error e) {
            log.error("internal error: {}", e.toString(), e);
        }
    }

    // ------------------------------------------------------------------ scheduler: finding mail

    private int activeLimit() {
        return (int) Math.max(1, config.integer("qmgr_message_active_limit"));
    }

    private boolean room() {
        return !stopping && active.size() + loading.size() < activeLimit();
    }

    private void drainCommitted() {
        String id;
        while (room() && (id = committed.poll()) != null) {
            load(QueueName.INCOMING, id);
        }
    }

    private void scanIncoming() {
        if (!room()) {
            return;
        }
        List<String> ids;
        try {
            ids = store.list(QueueName.INCOMING);
        } catch (IOException e) {
            log.warn("scan incoming: {}", e.toString());
            return;
        }
        for (String id : ids) {
            if (!room()) {
                return;
            }
            load(QueueName.INCOMING, id);
        }
    }

    private void scanDeferred() {
        scanDeferredNow(false);
    }

    private void scanDeferredNow(boolean all) {
        flushAll = all;
        try {
            scanDeferredOnce(all);
        } finally {
            flushAll = false;
        }
    }

    private void scanDeferredOnce(boolean all) {
        List<String> ids;
        try {
            ids = store.list(QueueName.DEFERRED);
        } catch (IOException e) {
            log.warn("scan deferred: {}", e.toString());
            return;
        }
        Instant now = clock.instant();
        for (String id : ids) {
            if (!room()) {
                return;
            }
            try {
                if (all || !store.nextAttempt(QueueName.DEFERRED, id).isAfter(now)) {
                    load(QueueName.DEFERRED, id);
                }
            } catch (IOException e) {
                // gone meanwhile (postsuper -d): nothing to do
            }
        }
    }

    private void load(QueueName from, String id) {
        if (active.containsKey(id)) {
            // its last attempt is finishing (the file may already be back in deferred/): load it once it retires
            reloadAfterRetire.put(id, from);
            return;
        }
        if (!loading.add(id)) {
            return;
        }
        work(() -> prepare(from, id));
    }

    // ------------------------------------------------------------------ worker: reading and resolving

    private void prepare(QueueName from, String id) {
        ActiveMessage m = null;
        try {
            if (!store.move(from, id, QueueName.ACTIVE)) {
                return; // picked up already, or removed
            }
            QueueStore.QueuedMessage qm;
            try {
                qm = store.read(QueueName.ACTIVE, id);
            } catch (IOException | RuntimeException e) {
                corrupt(id, e);
                return;
            }
            m = new ActiveMessage(id, qm, clock.instant());
            Envelope env = qm.envelope();
            log.info("{}: from=<{}>, size={}, nrcpt={} (queue active)", id, env.sender(), qm.contentLength(),
                    env.recipients().size());
            Map<BatchKey, List<Integer>> groups = new LinkedHashMap<>();
            Optional<String> redirect = action(env, "redirect");
            Optional<Function<String, Resolution>> filter = action(env, "filter").map(this::filterRoute);
            List<Resolution> resolved = new ArrayList<>();
            boolean redirected = false;
            for (int i = 0; i < env.recipients().size(); i++) {
                Envelope.Recipient r = env.recipients().get(i);
                resolved.add(null);
                if (r.status() != Envelope.Status.PENDING) {
                    continue;
                }
                if (redirect.isPresent() && redirected) {
                    // REDIRECT: one delivery to the redirect address stands for all recipients (Postfix's qmgr
                    // delivers the first one only); the file goes once that delivery is done
                    continue;
                }
                Optional<RecipientResult> early = Optional.empty();
                Resolution res = null;
                try {
                    if (redirect.isPresent()) {
                        // REDIRECT (access or header/body checks) overrides all else, FILTER included
                        redirected = true;
                        res = resolver.resolve(config, env.sender(), redirect.get());
                    } else if (filter.isPresent()) {
                        res = filter.get().apply(r.address());
                    } else {
                        // relocated_maps is the resolver's (as in Postfix's trivial-rewrite): error:5.1.6 User has
                        // moved
                        res = resolver.resolve(config, env.sender(), r.address());
                    }
                } catch (ResolutionException e) {
                    early = Optional.of(RecipientResult.deferred(r.address(),
                            Reply.tempfail(451, "4.3.0", e.getMessage()), "none"));
                }
                if (early.isPresent()) {
                    m.early.put(i, early.get());
                    continue;
                }
                resolved.set(i, res);
                groups.computeIfAbsent(new BatchKey(res.transport(), res.nexthop()), k -> new ArrayList<>()).add(i);
            }
            List<Batch> batches = new ArrayList<>();
            for (Map.Entry<BatchKey, List<Integer>> g : groups.entrySet()) {
                String service = g.getKey().service();
                int limit = recipientLimit(service);
                List<Integer> idx = g.getValue();
                for (int from2 = 0; from2 < idx.size(); from2 += limit) {
                    List<Integer> part = idx.subList(from2, Math.min(idx.size(), from2 + limit));
                    Map<Integer, String> rcpts = new LinkedHashMap<>();
                    for (int i : part) {
                        rcpts.put(i, resolved.get(i).recipient());
                    }
                    String destinationName = limit == 1 ? rcpts.values().iterator().next() : g.getKey().nexthop();
                    batches.add(new Batch(m, new Destination(service, destinationName), g.getKey().nexthop(), rcpts));
                }
            }
            m.batches = batches.size();
            m.batchCount = batches.size();
            ActiveMessage ready = m;
            submit(() -> accepted(ready, batches));
        } catch (IOException | RuntimeException e) {
            log.warn("{}: cannot activate: {}", id, e.toString());
            String failed = id;
            submit(() -> loading.remove(failed));
        }
    }

    /**
     * The value of the last action of this name in the queue file: the envelope's (access(5), content_filter), then
     * the extracted segment's (header/body checks), so that, as with Postfix's FILTER and REDIRECT records, the last
     * one wins.
     */
    private static Optional<String> action(Envelope env, String name) {
        Optional<String> last = Optional.empty();
        for (Envelope.Action a : env.actions()) {
            if (a.name().equals(name)) {
                last = Optional.of(a.value());
            }
        }
        return last;
    }

    /**
     * FILTER {@code transport:destination} (an access or header table action, or content_filter): every recipient
     * goes to that transport and destination unchanged; without a destination, as Postfix's qmgr: to
     * {@code default_filter_nexthop} when set, else to the recipient's domain, else to {@code $myhostname}.
     */
    private Function<String, Resolution> filterRoute(String value) {
        int colon = value.indexOf(':');
        String transport = colon < 0 ? value : value.substring(0, colon);
        String nexthop = colon < 0 ? "" : value.substring(colon + 1);
        String fallback = config.get("default_filter_nexthop").map(String::strip).orElse("");
        return rcpt -> {
            String hop = nexthop;
            if (hop.isEmpty()) {
                int at = rcpt.lastIndexOf('@');
                hop = !fallback.isEmpty() ? fallback
                        : at >= 0 && at < rcpt.length() - 1 ? rcpt.substring(at + 1) : config.value("myhostname");
            }
            return new Resolution(Resolution.AddressClass.DEFAULT, transport, hop, rcpt);
        };
    }

    private void corrupt(String id, Exception e) {
        try {
            store.move(QueueName.ACTIVE, id, QueueName.CORRUPT);
            log.warn("{}: saving corrupt queue file to {}: {}", id, QueueName.CORRUPT.directory(), e.getMessage());
        } catch (IOException x) {
            log.warn("{}: corrupt queue file, and it cannot be moved to corrupt/: {}", id, x.toString());
        }
        submit(() -> loading.remove(id));
    }

    /**
     * What the scheduler needs of one transport service, worked out once per queue manager: the snapshot is fixed for
     * an instance's life (a reload starts a new one), and the dispatch loop asks for these on every event.
     *
     * @param entry the service's master.cf entry, empty when master.cf has none
     * @param recipientLimit {@code <service>_destination_recipient_limit}, else the default
     * @param concurrencyLimit {@code <service>_destination_concurrency_limit}, else the default
     * @param processLimit master.cf's maxproc
     * @param context the plugin context of the service's own snapshot (its {@code -o} overrides applied), or null
     */
    private record Service(Optional<MasterEntry> entry, int recipientLimit, int concurrencyLimit, int processLimit,
            org.estafeta.api.plugin.PluginContext context) {
    }

    private final Map<String, Service> serviceCache = new java.util.concurrent.ConcurrentHashMap<>();

    private Service service(String name) {
        return serviceCache.computeIfAbsent(name, n -> {
            Optional<MasterEntry> e = findEntry(n);
            return new Service(e,
                    (int) Math.max(1, limit(n + "_destination_recipient_limit", "default_destination_recipient_limit")),
                    (int) Math.max(1, limit(n + "_destination_concurrency_limit", "default_destination_concurrency_limit")),
                    processLimit(e),
                    e.map(m -> new SnapshotPluginContext(config.forService(m), m.command(), clock)).orElse(null));
        });
    }

    private int recipientLimit(String service) {
        return service(service).recipientLimit();
    }

    private int concurrencyLimit(String service) {
        return service(service).concurrencyLimit();
    }

    private int processLimit(String service) {
        return service(service).processLimit();
    }

    private Optional<MasterEntry> entry(String service) {
        return service(service).entry();
    }

    private long limit(String specific, String fallback) {
        Optional<String> v = config.get(specific);
        if (v.isPresent() && !v.get().isBlank()) {
            try {
                return Long.parseLong(v.get().trim());
            } catch (NumberFormatException e) {
                log.warn("{}: bad numerical value: {}; using {}", specific, v.get(), fallback);
            }
        }
        return config.integer(fallback);
    }

    /** master.cf's maxproc for a transport service ({@code -}: default_process_limit; 0: no limit). */
    private int processLimit(Optional<MasterEntry> e) {
        if (e.isEmpty()) {
            return Integer.MAX_VALUE;
        }
        String mp = e.get().maxproc();
        long n = mp.equals("-") ? config.integer("default_process_limit") : parse(mp);
        return n <= 0 ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE, n);
    }

    private static long parse(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The master.cf entry of a transport service: {@code unix} type (Postfix also accepts other private types). */
    private Optional<MasterEntry> findEntry(String service) {
        MasterEntry any = null;
        for (MasterEntry e : config.services()) {
            if (e.service().equals(service)) {
                if (e.type().equals("unix")) {
                    return Optional.of(e);
                }
                if (!e.type().equals("inet")) {
                    any = e;
                }
            }
        }
        return Optional.ofNullable(any);
    }

    // ------------------------------------------------------------------ scheduler: dispatching

    private void accepted(ActiveMessage m, List<Batch> batches) {
        loading.remove(m.id);
        active.put(m.id, m);
        for (Batch b : batches) {
            waiting.computeIfAbsent(b.destination, d -> new ArrayDeque<>()).add(b);
        }
        if (batches.isEmpty()) {
            work(() -> finish(m));
        }
        dispatch();
    }

    private void dispatch() {
        if (stopping) {
            return;
        }
        for (Iterator<Map.Entry<Destination, ArrayDeque<Batch>>> it = waiting.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Destination, ArrayDeque<Batch>> e = it.next();
            Destination d = e.getKey();
            ArrayDeque<Batch> q = e.getValue();
            while (!q.isEmpty() && busyByDestination.getOrDefault(d, 0) < concurrencyLimit(d.service())
                    && busyByService.getOrDefault(d.service(), 0) < processLimit(d.service())) {
                Batch b = q.poll();
                busyByDestination.merge(d, 1, Integer::sum);
                busyByService.merge(d.service(), 1, Integer::sum);
                inFlight.incrementAndGet();
                work(() -> deliver(b));
            }
            if (q.isEmpty()) {
                it.remove();
            }
        }
    }

    private void delivered(Batch b, Map<Integer, RecipientResult> results) {
        inFlight.decrementAndGet();
        busyByDestination.computeIfPresent(b.destination, (k, v) -> v <= 1 ? null : v - 1);
        busyByService.computeIfPresent(b.destination.service(), (k, v) -> v <= 1 ? null : v - 1);
        ActiveMessage m = b.message;
        m.results.putAll(results);
        if (--m.batches == 0) {
            work(() -> finish(m));
        }
        dispatch();
    }

    private void retired(String id) {
        active.remove(id);
        QueueName again = reloadAfterRetire.remove(id);
        if (again != null && room()) {
            try {
                if (inQueue(again, id) && (again != QueueName.DEFERRED
                        || !store.nextAttempt(again, id).isAfter(clock.instant()) || flushAll)) {
                    load(again, id);
                }
            } catch (IOException e) {
                log.warn("{}: {}", id, e.toString());
            }
        }
        drainCommitted();
    }

    // ------------------------------------------------------------------ worker: delivering

    private void deliver(Batch b) {
        Map<Integer, RecipientResult> out = new LinkedHashMap<>();
        Instant started = clock.instant();
        try {
            out.putAll(attempt(b));
        } catch (RuntimeException | Error e) {
            log.error("{}: delivery via {} failed: {}", b.message.id, b.destination.service(), e.toString(), e);
        }
        Instant ended = clock.instant();
        for (Map.Entry<Integer, String> r : b.recipients.entrySet()) {
            out.putIfAbsent(r.getKey(), RecipientResult.deferred(r.getValue(),
                    Reply.tempfail(451, "4.3.0", "unknown mail transport error"), "none"));
        }
        logResults(b, out, started, ended);
        List<Integer> done = new ArrayList<>();
        out.forEach((i, r) -> {
            if (r.status() == RecipientResult.Status.DELIVERED) {
                done.add(i);
            }
        });
        // a message delivered whole by its only batch is removed next; otherwise record progress in the file
        boolean wholeMessage = b.message.batchCount == 1 && b.message.early.isEmpty() && done.size() == out.size();
        if (!done.isEmpty() && !wholeMessage) {
            try {
                store.markDone(QueueName.ACTIVE, b.message.id, done);
            } catch (IOException e) {
                log.warn("{}: cannot mark recipients done: {} (they may be delivered again)", b.message.id,
                        e.toString());
            }
        }
        submit(() -> delivered(b, out));
    }

    private Map<Integer, RecipientResult> attempt(Batch b) {
        Map<Integer, RecipientResult> out = new LinkedHashMap<>();
        String service = b.destination.service();
        Optional<MasterEntry> entry = entry(service);
        Optional<Transport> transport = entry.flatMap(e -> transports.apply(e.command()));
        if (entry.isEmpty()) {
            log.warn("connect to transport private/{}: No such file or directory (no master.cf entry for {})",
                    service, service);
        } else if (transport.isEmpty()) {
            log.warn("{}: transport {} unavailable: no bundle registers estafeta.transport={}", b.message.id,
                    service, entry.get().command());
        }
        if (transport.isEmpty()) {
            b.recipients.forEach((i, r) -> out.put(i, RecipientResult.deferred(r, TRANSPORT_UNAVAILABLE, "none")));
            return out;
        }
        MasterEntry e = entry.get();
        Envelope env = b.message.queued.envelope();
        Map<String, Map<String, String>> rcptParams = new LinkedHashMap<>();
        for (Map.Entry<Integer, String> r : b.recipients.entrySet()) {
            Envelope.Recipient q = env.recipients().get(r.getKey());
            Map<String, String> p = new LinkedHashMap<>();
            if (!q.notifyOn().isEmpty()) {
                p.put("NOTIFY", String.join(",", q.notifyOn()));
            }
            q.originalRecipient().ifPresent(o -> p.put("ORCPT", xtextDecoded(o)));
            if (!p.isEmpty()) {
                rcptParams.put(r.getValue(), p);
            }
        }
        Map<String, String> mailParams = new LinkedHashMap<>();
        for (String name : List.of("RET", "ENVID", "BODY", "SMTPUTF8")) {
            String v = env.mailParameters().get(name);
            if (v != null) {
                mailParams.put(name, name.equals("ENVID") ? xtextDecoded(v) : v);
            }
        }
        List<String> all = env.recipients().stream().map(Envelope.Recipient::address).toList();
        org.estafeta.api.message.Envelope apiEnv = new org.estafeta.api.message.Envelope(b.message.id, env.sender(),
                all, new ClientInfo(env.client().address(), env.client().name(), env.client().helo(), false,
                        Optional.empty()));
        List<String> rcpts = List.copyOf(new java.util.LinkedHashSet<>(b.recipients.values()));
        DeliveryRequest request = new DeliveryRequest(b.nexthop, apiEnv, rcpts, b.message.content, e.overrides(),
                service, e.arguments(), mailParams, rcptParams);
        List<RecipientResult> results = transport.get().deliver(request, service(service).context());
        Map<String, RecipientResult> byAddress = new HashMap<>();
        if (results != null) {
            for (RecipientResult r : results) {
                byAddress.putIfAbsent(r.recipient(), r);
            }
        }
        b.recipients.forEach((i, r) -> {
            RecipientResult res = byAddress.get(r);
            if (res != null) {
                out.put(i, res);
            }
        });
        return out;
    }

    private void logResults(Batch b, Map<Integer, RecipientResult> out, Instant started, Instant ended) {
        ActiveMessage m = b.message;
        Envelope env = m.queued.envelope();
        double before = seconds(Instant.ofEpochMilli(env.arrivalMicros() / 1000), m.activated);
        double inQmgr = seconds(m.activated, started);
        double delivery = seconds(started, ended);
        Optional<MasterEntry> e = entry(b.destination.service());
        Logger agent = LoggerFactory.getLogger(e.map(MasterEntry::command).orElse(b.destination.service()));
        out.forEach((i, r) -> {
            Envelope.Recipient q = env.recipients().get(i);
            String orig = q.address().equalsIgnoreCase(r.recipient()) ? null : q.address();
            agent.info(DeliveryLog.line(m.id, r.recipient(), orig, r, before, inQmgr, delivery));
        });
    }

    private static double seconds(Instant from, Instant to) {
        return Math.max(0, Duration.between(from, to).toNanos() / 1e9);
    }

    // ------------------------------------------------------------------ worker: finishing a message

    private void finish(ActiveMessage m) {
        try {
            finishOrThrow(m);
        } catch (IOException | RuntimeException e) {
            log.warn("{}: {}; the message stays in the active queue until the next start", m.id, e.toString());
        } finally {
            submit(() -> retired(m.id));
        }
    }

    private void finishOrThrow(ActiveMessage m) throws IOException {
        m.results.putAll(m.early);
        for (Map.Entry<Integer, RecipientResult> early : m.early.entrySet()) {
            Envelope.Recipient q = m.queued.envelope().recipients().get(early.getKey());
            LoggerFactory.getLogger("qmgr").info(DeliveryLog.line(m.id, q.address(), null, early.getValue(),
                    0, seconds(m.activated, clock.instant()), 0));
        }
        Envelope env = m.queued.envelope();
        List<Integer> bounced = new ArrayList<>();
        List<Integer> deferred = new ArrayList<>();
        List<Integer> delivered = new ArrayList<>();
        m.results.forEach((i, r) -> {
            switch (r.status()) {
                case BOUNCED -> bounced.add(i);
                case DEFERRED -> deferred.add(i);
                case DELIVERED -> delivered.add(i);
            }
        });
        boolean nullSender = env.sender().isEmpty();
        long lifetime = config.seconds(nullSender ? "bounce_queue_lifetime" : "maximal_queue_lifetime");
        Instant arrival = Instant.ofEpochMilli(env.arrivalMicros() / 1000);
        boolean expired = !deferred.isEmpty() && !clock.instant().isBefore(arrival.plusSeconds(lifetime));
        List<Integer> failed = new ArrayList<>(bounced);
        if (expired) {
            failed.addAll(deferred);
            log.info("{}: from=<{}>, status=expired, returned to sender", m.id, env.sender());
        }
        if (!failed.isEmpty()) {
            bouncer.notify(notice(m, Notice.Kind.FAILURE, failed));
            store.markDone(QueueName.ACTIVE, m.id, failed);
        }
        List<Integer> success = new ArrayList<>();
        for (int i : delivered) {
            if (env.recipients().get(i).notifyOn().contains("SUCCESS")) {
                success.add(i);
            }
        }
        if (!success.isEmpty()) {
            try {
                bouncer.notify(notice(m, Notice.Kind.SUCCESS, success));
            } catch (IOException e) {
                log.warn("{}: cannot send the delivery status notification: {}", m.id, e.toString());
            }
        }
        if (deferred.isEmpty() || expired) {
            store.delete(QueueName.ACTIVE, m.id);
            log.info("{}: removed", m.id);
            return;
        }
        Map<String, String> reasons = new LinkedHashMap<>();
        for (int i : deferred) {
            reasons.put(env.recipients().get(i).address(), m.results.get(i).reply().text());
        }
        Instant now = clock.instant();
        long age = Math.max(0, Duration.between(arrival, now).getSeconds());
        // delay_warning_time: one "Delayed Mail (still being retried)" report per message, remembered with the
        // deferral reasons (a key that no address can be)
        boolean warned = store.deferrals(m.id).containsKey(DELAY_WARNED);
        long warnAfter = config.seconds("delay_warning_time");
        if (!warned && warnAfter > 0 && age >= warnAfter) {
            try {
                bouncer.notify(notice(m, Notice.Kind.DELAY, deferred));
                warned = true;
            } catch (IOException e) {
                log.warn("{}: cannot send the delay notification: {}; trying again at the next attempt", m.id,
                        e.toString());
            }
        }
        if (warned) {
            reasons.put(DELAY_WARNED, "yes");
        }
        store.recordDeferrals(m.id, reasons);
        long backoff = Math.min(config.seconds("maximal_backoff_time"),
                Math.max(config.seconds("minimal_backoff_time"), age));
        // the time goes into the file first, so that the message is never seen in deferred/ without it
        store.setNextAttempt(QueueName.ACTIVE, m.id, now.plusSeconds(backoff));
        store.move(QueueName.ACTIVE, m.id, QueueName.DEFERRED);
    }

    private Notice notice(ActiveMessage m, Notice.Kind kind, List<Integer> which) {
        Envelope env = m.queued.envelope();
        List<Notice.RecipientStatus> list = new ArrayList<>();
        for (int i : which) {
            Envelope.Recipient q = env.recipients().get(i);
            RecipientResult r = m.results.get(i);
            String relay = r.relay();
            Optional<String> remote = relay.contains("[") ? Optional.of(relay) : Optional.empty();
            list.add(new Notice.RecipientStatus(q.address(), q.originalRecipient(), q.notifyOn(),
                    r.reply().enhancedStatus(), diagnostic(r), remote, false));
        }
        return new Notice(kind, config, m.id, env.arrivalMicros() / 1000, env.sender(), env.mailParameters(), list,
                m.queued::content);
    }

    /** ENVID and ORCPT are queued as received (RFC 3461 xtext); the transport API carries them decoded. */
    static String xtextDecoded(String v) {
        try {
            return org.estafeta.queue.QueueFileFormat.unxtext(v);
        } catch (IOException e) {
            return v; // not valid xtext: pass it on as it came
        }
    }

    private static final java.util.regex.Pattern REMOTE =
            java.util.regex.Pattern.compile("host \\S+ said: (.*?)(?: \\(in reply to .* command\\))?");

    /**
     * What a report's Diagnostic-Code carries: the remote server's bare reply ({@code 550 5.1.1 <x>: unknown}) when
     * the transport worded it as Postfix's smtp does ({@code host mx[192.0.2.1] said: ... (in reply to RCPT TO
     * command)}), otherwise the transport's text.
     */
    static String diagnostic(RecipientResult r) {
        java.util.regex.Matcher m = REMOTE.matcher(r.reply().text());
        return m.matches() ? m.group(1) : r.reply().text();
    }

    // ------------------------------------------------------------------ state records

    /** A message in the active queue. Fields are written by one thread at a time, handed over through executors. */
    private static final class ActiveMessage {
        final String id;
        final QueueStore.QueuedMessage queued;
        final QueuedContent content;
        final Instant activated;
        /** Results known without a delivery (relocated, resolution failures). */
        final Map<Integer, RecipientResult> early = new LinkedHashMap<>();
        /** Results by recipient index (scheduler thread until the last batch is in). */
        final Map<Integer, RecipientResult> results = new LinkedHashMap<>();
        /** How many batches the message was split into (written once, before the first batch starts). */
        volatile int batchCount;
        /** Batches without a result yet (scheduler thread). */
        int batches;

        ActiveMessage(String id, QueueStore.QueuedMessage queued, Instant activated) {
            this.id = id;
            this.queued = queued;
            this.content = new QueuedContent(queued);
            this.activated = activated;
        }
    }

    /** Where concurrency is counted: a transport service and a next hop (or, with recipient limit 1, a recipient). */
    record Destination(String service, String name) {
    }

    private record BatchKey(String service, String nexthop) {
    }

    /** Recipients of one message for one transport and next hop, by their index in the envelope. */
    private record Batch(ActiveMessage message, Destination destination, String nexthop, Map<Integer, String> recipients) {
    }
}
