package org.estafeta.smtpd;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;

/**
 * One message on its way into {@link Cleanup}: open, write and commit run on the shared worker pool, one at a time
 * and in order (a serial queue per session), never on the event loop. The session learns the outcome through
 * callbacks that it hops back to its event loop.
 *
 * <p>Back-pressure: {@link #pendingBytes()} counts content handed over and not yet written; the session stops
 * reading from the socket above {@link #HIGH_WATER} and starts again below {@link #LOW_WATER} (told through
 * {@code drained}). Memory per session thus stays near {@code HIGH_WATER} plus one socket read, whatever the
 * message size.
 */
final class CleanupPipe {
    static final long HIGH_WATER = 64 * 1024;
    static final long LOW_WATER = 16 * 1024;

    /** How a commit ended. */
    sealed interface Outcome {
        record Queued(String queueId) implements Outcome {
        }

        record Rejected(org.estafeta.api.message.Reply reply) implements Outcome {
        }

        /** open, write or commit failed: nothing is queued. */
        record Failed(Exception cause) implements Outcome {
        }
    }

    private final Executor workers;
    private final Runnable drained;
    private final AtomicLong pending = new AtomicLong();
    private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
    private boolean running;
    /** Touched by worker threads only, one at a time (the serial queue orders them). */
    private Cleanup.Stream stream;
    private Exception failure;
    private volatile boolean aborted;

    /**
     * @param workers the bounded pool
     * @param drained called (on a worker thread) when pending bytes fall below the low-water mark
     */
    CleanupPipe(Executor workers, Runnable drained) {
        this.workers = workers;
        this.drained = drained;
    }

    /**
     * Opens the stream; {@code service} is the smtpd service's snapshot (its -o settings reach the content filters),
     * {@code filters} the session's filters (null: none followed the session).
     */
    void open(Cleanup cleanup, Submission submission, org.estafeta.config.ConfigSnapshot service,
            org.estafeta.cleanup.FilterChannel filters) {
        submit(() -> {
            try {
                stream = filters != null ? cleanup.open(submission, service, filters)
                        : service != null ? cleanup.open(submission, service) : cleanup.open(submission);
            } catch (Exception e) {
                failure = e;
            }
        });
    }

    /**
     * Calls {@code then} (on a worker thread) once the open has run: with the content filters' refusal of the DATA
     * command, or null when the message may come (other open failures are reported by {@link #finish}, as always).
     */
    void whenOpen(java.util.function.Consumer<org.estafeta.api.message.Reply> then) {
        submit(() -> then.accept(failure instanceof Cleanup.RefusedAtOpen r ? r.reply() : null));
    }

    void write(byte[] bytes) {
        pending.addAndGet(bytes.length);
        submit(() -> {
            try {
                if (failure == null && !aborted) {
                    stream.write(bytes, 0, bytes.length);
                }
            } catch (Exception e) {
                failure = e;
            } finally {
                long before = pending.getAndAdd(-bytes.length);
                if (before >= LOW_WATER && before - bytes.length < LOW_WATER) {
                    drained.run();
                }
            }
        });
    }

    /** Commits, or aborts when {@code abort} (size exceeded, bare LF reject ...), then calls {@code done}. */
    void finish(boolean abort, java.util.function.Consumer<Outcome> done) {
        submit(() -> {
            Outcome outcome;
            if (failure != null) {
                abortStream();
                outcome = new Outcome.Failed(failure);
            } else if (abort || aborted) {
                abortStream();
                outcome = new Outcome.Failed(new IOException("aborted"));
            } else {
                try {
                    outcome = new Outcome.Queued(stream.commit());
                } catch (Cleanup.Rejected r) {
                    outcome = new Outcome.Rejected(r.reply());
                } catch (Exception e) {
                    abortStream();
                    outcome = new Outcome.Failed(e);
                }
            }
            done.accept(outcome);
        });
    }

    /** The client went away or reset: throw the message away once what is queued has run. */
    void abort() {
        aborted = true;
        submit(this::abortStream);
    }

    private void abortStream() {
        if (stream != null) {
            Cleanup.Stream s = stream;
            stream = null;
            s.abort();
        }
    }

    long pendingBytes() {
        return pending.get();
    }

    private void submit(Runnable task) {
        synchronized (queue) {
            queue.add(task);
            if (running) {
                return;
            }
            running = true;
        }
        workers.execute(this::drain);
    }

    private void drain() {
        while (true) {
            Runnable next;
            synchronized (queue) {
                next = queue.poll();
                if (next == null) {
                    running = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
    }
}
