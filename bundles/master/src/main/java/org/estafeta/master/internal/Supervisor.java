package org.estafeta.master.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.master.daemon.Daemon;
import org.estafeta.master.daemon.DaemonInstance;
import org.slf4j.Logger;

/**
 * master_supervisor - keeps one running instance per master.cf entry whose daemon is registered. All state is
 * owned by one single-threaded executor, so nothing here needs a lock: the DS callbacks, the configuration
 * listener and the control socket only submit tasks. A read-only view for {@code status} is republished after
 * every change.
 */
final class Supervisor {
    /** What an entry is doing. */
    enum State {
        /** Its daemon is not registered. */
        WAITING,
        /** Its daemon's start() is running. */
        STARTING,
        /** An instance is serving. */
        RUNNING,
        /** start() threw, or the entry's configuration is unusable. */
        FAILED,
        /** A Postfix program that Estafeta accepts without running anything (see {@link PostfixPrograms}). */
        ACCEPTED
    }

    /** One line of {@code status}. */
    record EntryStatus(MasterEntry entry, State state, String text) {
        /** Whether this entry keeps {@code status} from saying "running" (exit 2). */
        boolean starting() {
            return state == State.STARTING || (state == State.WAITING && "inet".equals(entry.type()));
        }

        String line() {
            return entry.id() + ": " + text;
        }
    }

    private record Registration(Daemon daemon, long id, int ranking) {
        boolean betterThan(Registration o) {
            return ranking != o.ranking ? ranking > o.ranking : id < o.id;
        }
    }

    /** The columns of an entry that matter; file and line are left out so that moving an entry restarts nothing. */
    private record Definition(String service, String type, String privateAccess, String unprivileged, String chroot,
            String wakeup, String maxproc, String command, Map<String, String> overrides, List<String> arguments) {
        static Definition of(MasterEntry e) {
            return new Definition(e.service(), e.type(), e.privateAccess(), e.unprivileged(), e.chroot(),
                    e.wakeup(), e.maxproc(), e.command(), e.overrides(), e.arguments());
        }
    }

    /** The executor's record of one entry. */
    private static final class Slot {
        final MasterEntry entry;
        final Definition definition;
        final Map<String, String> fingerprint;
        final ConfigSnapshot config;
        final String configError;
        Daemon daemon;
        DaemonInstance instance;
        State state;
        String text;

        Slot(MasterEntry entry, ConfigSnapshot config, Map<String, String> fingerprint, String configError) {
            this.entry = entry;
            this.definition = Definition.of(entry);
            this.config = config;
            this.fingerprint = fingerprint;
            this.configError = configError;
        }

        String daemonName() {
            return PostfixPrograms.daemonName(entry.command());
        }
    }

    private final Logger log;
    private final long stopTimeoutMillis;
    private final ExecutorService executor;

    // ---- owned by the executor thread ----
    private final Map<String, List<Registration>> daemons = new HashMap<>();
    private Map<String, Slot> slots = new LinkedHashMap<>();
    private boolean shutDown;

    private volatile List<EntryStatus> published = List.of();
    private volatile long generation;

    Supervisor(Logger log, long stopTimeoutMillis) {
        this.log = log;
        this.stopTimeoutMillis = stopTimeoutMillis;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "estafeta-master");
            t.setDaemon(true);
            return t;
        });
    }

    // ---------------------------------------------------------------- called from any thread

    /** Makes the running instances match {@code snapshot}'s master.cf (asynchronously). */
    void configure(ConfigSnapshot snapshot) {
        submit(() -> reconcile(snapshot));
    }

    /** A Daemon service was registered (asynchronously starts the entries waiting for it). */
    void daemonAdded(String name, Daemon daemon, long serviceId, int ranking) {
        submit(() -> added(name, new Registration(daemon, serviceId, ranking)));
    }

    /**
     * A Daemon service is going away. Waits (bounded) until its instances are stopped, so that they stop while
     * the providing bundle is still there.
     */
    void daemonRemoved(Daemon daemon) {
        await(submit(() -> removed(daemon)));
    }

    /** The entries as the last change left them, in master.cf order. */
    List<EntryStatus> status() {
        return published;
    }

    /** The generation of the snapshot the instances were last reconciled with (0 before the first). */
    long generation() {
        return generation;
    }

    /** Waits until every task submitted before this call has run (bounded). */
    void settle() {
        await(submit(() -> { }));
    }

    /** Stops every instance and the executor; later calls do nothing. */
    void shutdown() {
        await(submit(this::stopAll));
        executor.shutdown();
        try {
            executor.awaitTermination(stopTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private Future<?> submit(Runnable task) {
        try {
            return executor.submit(() -> {
                if (shutDown) {
                    return;
                }
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.error("internal error: {}", e.toString(), e);
                } finally {
                    publish();
                }
            });
        } catch (RejectedExecutionException e) {
            return null; // shut down
        }
    }

    private void await(Future<?> f) {
        if (f == null) {
            return;
        }
        try {
            f.get(stopTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            log.error("internal error: {}", e.getCause().toString(), e.getCause());
        } catch (TimeoutException e) {
            log.warn("master: still busy after {} ms; not waiting any longer", stopTimeoutMillis);
        }
    }

    // ---------------------------------------------------------------- executor thread only

    private void reconcile(ConfigSnapshot snapshot) {
        Map<String, MasterEntry> wanted = new LinkedHashMap<>();
        for (MasterEntry e : snapshot.services()) {
            MasterEntry before = wanted.put(e.id(), e);
            if (before != null) {
                log.warn("{}, line {}: duplicate master.cf entry for service {} (first on line {}); using the last one",
                        e.file(), e.line(), e.id(), before.line());
                wanted.remove(e.id());
                wanted.put(e.id(), e);
            }
        }
        Map<String, Slot> previous = slots;
        for (Slot old : previous.values()) {
            if (!wanted.containsKey(old.entry.id())) {
                stop(old, "removed from master.cf");
            }
        }
        Map<String, Slot> next = new LinkedHashMap<>();
        List<Slot> fresh = new ArrayList<>();
        for (MasterEntry e : wanted.values()) {
            ConfigSnapshot own = null;
            Map<String, String> fingerprint = Map.of();
            String error = null;
            try {
                own = snapshot.forService(e);
                fingerprint = fingerprint(own);
            } catch (RuntimeException x) {
                error = x.getMessage() == null ? x.toString() : x.getMessage();
            }
            Slot old = previous.get(e.id());
            if (old != null && error == null && old.configError == null && old.state != State.FAILED
                    && old.definition.equals(Definition.of(e)) && old.fingerprint.equals(fingerprint)) {
                next.put(e.id(), old); // unchanged: leave it as it is
                continue;
            }
            if (old != null) {
                stop(old, "changed");
            }
            Slot slot = new Slot(e, own, fingerprint, error);
            slot.state = State.WAITING;
            slot.text = "starting";
            next.put(e.id(), slot);
            fresh.add(slot);
        }
        slots = next;
        generation = snapshot.generation();
        for (Slot slot : fresh) {
            activate(slot, true);
        }
    }

    /** What an instance's behaviour depends on: the effective parameters of the entry's own snapshot. */
    private static Map<String, String> fingerprint(ConfigSnapshot own) {
        Map<String, String> fp = new HashMap<>(own.effectiveValues());
        for (String name : own.explicitNames()) {
            own.get(name).ifPresent(v -> fp.put(name, v));
        }
        return fp;
    }

    private void added(String name, Registration reg) {
        List<Registration> list = daemons.computeIfAbsent(name, n -> new ArrayList<>());
        int at = 0;
        while (at < list.size() && list.get(at).betterThan(reg)) {
            at++;
        }
        list.add(at, reg);
        for (Slot slot : slots.values()) {
            if (!slot.daemonName().equals(name)) {
                continue;
            }
            if (slot.instance != null) {
                if (slot.daemon == list.get(0).daemon()) {
                    continue;
                }
                stop(slot, "a higher-ranked estafeta.daemon=" + name + " service arrived");
            }
            activate(slot, false);
        }
    }

    private void removed(Daemon daemon) {
        for (var it = daemons.values().iterator(); it.hasNext();) {
            List<Registration> list = it.next();
            list.removeIf(r -> r.daemon() == daemon);
            if (list.isEmpty()) {
                it.remove();
            }
        }
        for (Slot slot : slots.values()) {
            if (slot.daemon == daemon) {
                stop(slot, "daemon " + slot.daemonName() + " went away");
                activate(slot, false);
            }
        }
    }

    /**
     * master.cf's chroot and unprivileged columns ask for process isolation that a single JVM cannot give. An
     * operator who wrote {@code chroot = y} or {@code unpriv = n} is told, on the line that reports the entry, that
     * it has no effect here; nothing is said for the values that match what Estafeta does anyway.
     */
    static String ignoredColumns(MasterEntry entry) {
        List<String> ignored = new ArrayList<>();
        if (entry.chroot().equals("y")) {
            ignored.add("chroot=y");
        }
        if (entry.unprivileged().equals("n")) {
            ignored.add("unpriv=n");
        }
        return ignored.isEmpty() ? "" : " (" + String.join(", ", ignored)
                + " ignored: every service runs inside the gateway's one process)";
    }

    /** Starts the slot if its daemon is registered, else records (and on first sight logs) why it is not running. */
    private void activate(Slot slot, boolean firstSight) {
        String id = slot.entry.id();
        if (slot.configError != null) {
            slot.state = State.FAILED;
            slot.text = "failed: " + slot.configError;
            log.error("service {}: {}", id, slot.configError);
            return;
        }
        List<Registration> regs = daemons.get(slot.daemonName());
        if (regs == null || regs.isEmpty()) {
            slot.daemon = null;
            slot.instance = null;
            boolean accepted = PostfixPrograms.kind(slot.entry.command()) != PostfixPrograms.Kind.DAEMON;
            slot.state = accepted ? State.ACCEPTED : State.WAITING;
            slot.text = PostfixPrograms.describeAbsent(slot.entry.command());
            if (firstSight) {
                log.info("service {}: {}{}", id, slot.text, ignoredColumns(slot.entry));
            }
            return;
        }
        Daemon daemon = regs.get(0).daemon();
        slot.daemon = daemon;
        slot.state = State.STARTING;
        slot.text = "starting " + slot.daemonName();
        publish();
        try {
            DaemonInstance instance = Objects.requireNonNull(daemon.start(slot.entry, slot.config),
                    "Daemon.start returned null");
            slot.instance = instance;
            slot.state = State.RUNNING;
            slot.text = describe(slot);
            log.info("service {}: {}{}", id, slot.text, ignoredColumns(slot.entry));
        } catch (Exception | LinkageError e) {
            slot.instance = null;
            slot.state = State.FAILED;
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            slot.text = "failed: " + why;
            log.warn("service {}: {} did not start: {}", id, slot.daemonName(), why);
        }
    }

    private String describe(Slot slot) {
        try {
            String d = slot.instance.describe();
            return d == null || d.isBlank() ? slot.daemonName() + " running" : d;
        } catch (RuntimeException e) {
            return slot.daemonName() + " running";
        }
    }

    private void stop(Slot slot, String why) {
        DaemonInstance instance = slot.instance;
        slot.instance = null;
        if (instance == null) {
            return;
        }
        try {
            instance.stop();
            log.info("service {}: stopped ({})", slot.entry.id(), why);
        } catch (RuntimeException | LinkageError e) {
            log.warn("service {}: error while stopping: {}", slot.entry.id(), e.toString());
        }
        slot.state = State.WAITING;
        slot.text = "stopped";
    }

    private void stopAll() {
        List<Slot> all = new ArrayList<>(slots.values());
        for (int i = all.size() - 1; i >= 0; i--) {
            stop(all.get(i), "master stopping");
        }
        slots = new LinkedHashMap<>();
        shutDown = true;
    }

    private void publish() {
        List<EntryStatus> view = new ArrayList<>(slots.size());
        for (Slot s : slots.values()) {
            if (s.state == State.RUNNING && s.instance != null) {
                s.text = describe(s);
            }
            view.add(new EntryStatus(s.entry, s.state, s.text));
        }
        published = List.copyOf(view);
    }
}
