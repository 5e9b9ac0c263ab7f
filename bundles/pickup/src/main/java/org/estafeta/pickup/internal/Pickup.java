package org.estafeta.pickup.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Reply;
import org.estafeta.bounce.Bouncer;
import org.estafeta.bounce.Notice;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.pickup.Maildrop;
import org.estafeta.queue.Envelope;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * pickup - one instance of the pickup service: feeds every file in {@code maildrop/} through the Cleanup service as
 * a local submission and removes it once cleanup has queued the message. It scans at start, when the submission
 * socket committed a file, and every {@code wakeup} seconds (root may have written maildrop/ itself). Bare names
 * in the envelope get {@code @$myorigin}, as Postfix's cleanup does in its {@code local} rewriting context.
 *
 * <p>A message that cleanup refuses for good (a 5xx {@link Cleanup.Rejected}: header or body checks, a content filter
 * or milter, {@code hopcount_limit}) is returned to its sender through the {@link Bouncer}, as Postfix's pickup has
 * cleanup bounce it ({@code CLEANUP_FLAG_BOUNCE}); the maildrop file goes only once the report is queued, so that a
 * message is never dropped silently.
 */
final class Pickup {
    private static final Logger log = LoggerFactory.getLogger("pickup");

    private final QueueStore store;
    private final Cleanup cleanup;
    private final Supplier<Optional<Bouncer>> bouncer;
    private final ConfigSnapshot config;
    private final long wakeupSeconds;
    private final ScheduledExecutorService executor =
            Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "estafeta-pickup");
                t.setDaemon(true);
                return t;
            });
    private final AtomicBoolean scanQueued = new AtomicBoolean();
    private SubmitServer server;
    private volatile int pickedUp;

    /**
     * @param bouncer the bounce service as it is now (it may come and go while pickup runs); empty while absent
     */
    Pickup(QueueStore store, Cleanup cleanup, Supplier<Optional<Bouncer>> bouncer, ConfigSnapshot config,
            long wakeupSeconds) {
        this.store = store;
        this.cleanup = cleanup;
        this.bouncer = bouncer;
        this.config = config;
        this.wakeupSeconds = wakeupSeconds;
    }

    void start() throws IOException {
        Path maildrop = store.directory().resolve(QueueName.MAILDROP.directory());
        var perms = Files.getPosixFilePermissions(maildrop);
        if (!PosixFilePermissions.fromString("rwx------").containsAll(perms)) {
            log.warn("{}: mode {} lets other users in; setting 0700", maildrop, PosixFilePermissions.toString(perms));
            perms.retainAll(List.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                    PosixFilePermission.OWNER_EXECUTE));
            Files.setPosixFilePermissions(maildrop, perms);
        }
        // receive_override_options (no_header_body_checks, no_address_mappings, no_milters) reach cleanup with this
        // service's snapshot (Cleanup.open(Submission, ConfigSnapshot)).
        long limit = config.get("message_size_limit").map(v -> Long.parseLong(v.strip())).orElse(10_240_000L);
        server = new SubmitServer(Maildrop.socket(store.directory()), store, limit, this::wake, log);
        server.start();
        executor.scheduleWithFixedDelay(this::wake, 0, Math.max(1, wakeupSeconds), TimeUnit.SECONDS);
    }

    /** Asks for a scan of maildrop/ (coalesced: at most one waits). */
    void wake() {
        if (scanQueued.compareAndSet(false, true)) {
            try {
                executor.execute(() -> {
                    scanQueued.set(false);
                    scan();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                scanQueued.set(false); // stopping
            }
        }
    }

    void stop() {
        if (server != null) {
            server.close();
        }
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String describe() {
        return "pickup: maildrop/ every " + wakeupSeconds + "s, submission socket " + Maildrop.socket(store.directory())
                + ", " + pickedUp + " picked up";
    }

    private void scan() {
        List<String> ids;
        try {
            ids = store.list(QueueName.MAILDROP);
        } catch (IOException e) {
            log.warn("maildrop: cannot list: {}", e.toString());
            return;
        }
        for (String id : ids) {
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            pick(id);
        }
    }

    /**
     * Feeds one maildrop file through cleanup; removes it once queued, or once cleanup's permanent refusal has been
     * reported to the sender. Keeps it (for the next scan) after a temporary failure or when the report cannot be
     * sent. Runs on the pickup thread (tests call it directly); blocks on cleanup, its content filters and the bounce
     * service; never throws.
     */
    void pick(String file) {
        QueueStore.QueuedMessage m;
        try {
            m = store.read(QueueName.MAILDROP, file);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        } catch (IOException | RuntimeException e) {
            log.warn("maildrop/{}: {}; saving to corrupt/", file, e.getMessage());
            moveToCorrupt(file);
            return;
        }
        Envelope e = m.envelope();
        long uid = Maildrop.uid(e).orElse(-1L);
        if (uid < 0) {
            log.warn("maildrop/{}: no uid record; saving to corrupt/", file);
            moveToCorrupt(file);
            return;
        }
        Submission s = submission(e, uid, config);
        Cleanup.Stream stream = null;
        try (InputStream in = m.content()) {
            // the pickup service's own snapshot: its master.cf -o settings reach the content filters
            stream = cleanup.open(s, config);
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                stream.write(buf, 0, n);
            }
            String id = stream.commit();
            stream = null;
            log.info("{}: uid={} from=<{}>", id, uid, s.sender());
            pickedUp++;
        } catch (Cleanup.Rejected r) {
            stream = null;
            if (r.reply().code() < 500) {
                log.warn("maildrop/{}: uid={}: cleanup: {}; will try again", file, uid, r.reply());
                return;
            }
            log.info("maildrop/{}: uid={} from=<{}>: rejected by cleanup: {}", file, uid, s.sender(), r.reply());
            if (!bounce(file, m, s, r.reply())) {
                return;
            }
        } catch (IOException | RuntimeException x) {
            if (stream != null) {
                stream.abort();
            }
            log.warn("maildrop/{}: uid={}: {}; will try again", file, uid, x.getMessage());
            return;
        }
        try {
            store.delete(QueueName.MAILDROP, file);
        } catch (IOException x) {
            log.warn("maildrop/{}: cannot remove: {}", file, x.toString());
        }
    }

    /**
     * Returns a message that cleanup rejected permanently to its sender, as Postfix's cleanup does for pickup's
     * mail: one {@code status=bounced} line per recipient, then the non-delivery report through the Bouncer (which
     * logs {@code FILE: sender non-delivery notification: ID}). Returns whether the maildrop file may go: the report
     * was queued, or none was due ({@code NOTIFY=NEVER}); false when the bounce service is absent or failed.
     */
    private boolean bounce(String file, QueueStore.QueuedMessage m, Submission s, Reply reply) {
        Optional<Bouncer> b = bouncer.get();
        if (b.isEmpty()) {
            log.warn("maildrop/{}: cannot return the message to <{}>: the bounce service is not available; "
                    + "will try again", file, s.sender());
            return false;
        }
        Notice notice = notice(file, m.envelope(), s, reply, config, m::content);
        for (Notice.RecipientStatus r : notice.recipients()) {
            log.info("maildrop/{}: to=<{}>, relay=none, dsn={}, status=bounced ({})", file, r.address(), r.status(),
                    r.diagnostic());
        }
        try {
            if (b.get().notify(notice).isEmpty()) {
                // NOTIFY=NEVER, or the null sender's mail that notify_classes sends nowhere (the bounce log says)
                log.info("maildrop/{}: no sender non-delivery notification due", file);
            }
            return true;
        } catch (IOException | RuntimeException e) {
            log.warn("maildrop/{}: cannot return the message to <{}>: {}; will try again", file, s.sender(),
                    e.toString());
            return false;
        }
    }

    /**
     * The FAILURE notice for a maildrop file that cleanup rejected: the file name as the queue ID, the file's arrival
     * time (now when it has none), and every recipient (as qualified for cleanup, with the NOTIFY it was submitted
     * with) failed with the reply's enhanced status and the reply itself as the diagnostic; no remote MTA.
     */
    static Notice notice(String file, Envelope e, Submission s, Reply reply, ConfigSnapshot config,
            Notice.Content content) {
        long arrival = e.arrivalMicros() > 0 ? e.arrivalMicros() / 1000 : System.currentTimeMillis();
        List<Notice.RecipientStatus> rcpts = new ArrayList<>();
        for (Submission.Recipient r : s.recipients()) {
            rcpts.add(new Notice.RecipientStatus(r.address(), r.originalRecipient(), r.notifyOn(),
                    reply.enhancedStatus(), reply.toString(), Optional.empty(), false));
        }
        return new Notice(Notice.Kind.FAILURE, config, file, arrival, s.sender(), s.mailParameters(), rcpts, content);
    }

    private void moveToCorrupt(String file) {
        try {
            store.move(QueueName.MAILDROP, file, QueueName.CORRUPT);
        } catch (IOException x) {
            log.warn("maildrop/{}: cannot move to corrupt/: {}", file, x.toString());
        }
    }

    /**
     * The Cleanup submission for a maildrop envelope: sender and recipients qualified with {@code @$myorigin},
     * NOTIFY per recipient, ENVID/RET/BODY, and this service's {@code content_filter} as a FILTER action.
     */
    static Submission submission(Envelope e, long uid, ConfigSnapshot config) {
        String origin = config.get("myorigin").map(String::strip).filter(v -> !v.isEmpty())
                .orElseGet(() -> config.value("myhostname"));
        List<Submission.Recipient> rcpts = new ArrayList<>();
        for (Envelope.Recipient r : e.recipients()) {
            rcpts.add(new Submission.Recipient(qualify(r.address(), origin), r.notifyOn(), r.originalRecipient()));
        }
        Map<String, String> params = new LinkedHashMap<>(e.mailParameters());
        Optional<String> filter = config.get("content_filter").map(String::strip).filter(v -> !v.isEmpty());
        Submission.Actions actions = new Submission.Actions(Optional.empty(), Optional.empty(), filter, Optional.empty(),
                List.of());
        return new Submission(qualify(e.sender(), origin), params, rcpts,
                new ClientInfo("", "localhost", "", false, Optional.empty()), Maildrop.PROTOCOL, actions,
                Optional.of(new Submission.Local(uid, Maildrop.fullName(e))));
    }

    /** {@code user} becomes {@code user@origin}; the null sender and qualified addresses stay as they are. */
    static String qualify(String address, String origin) {
        return address.isEmpty() || address.contains("@") ? address : address + "@" + origin;
    }
}
