package org.estafeta.testing.cleanup;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.estafeta.api.message.Reply;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;

/**
 * An in-memory {@link Cleanup} for tests. Each {@link #open} makes a {@link Message} that records the envelope, the
 * bytes written, how it ended and on which threads it was called. It can be told to fail at open, at a write or at
 * commit, to reject at commit with a {@link Reply}, and to be slow: a commit (or every write) can wait for a gate
 * that the test opens, so a test can check what a client sees while Cleanup is busy.
 *
 * <p>Thread-safe: smtpd calls it from its worker pool while the test thread inspects it.
 */
public final class FakeCleanup implements Cleanup {
    /** How a message ended. */
    public enum State {
        OPEN, COMMITTED, REJECTED, FAILED, ABORTED
    }

    /** One message, as Cleanup saw it. */
    public final class Message {
        private final Submission envelope;
        private final ByteArrayOutputStream content = new ByteArrayOutputStream();
        private final List<Integer> writeSizes = new ArrayList<>();
        private final List<String> threads = new ArrayList<>();
        private State state = State.OPEN;
        private String queueId;

        Message(Submission envelope) {
            this.envelope = envelope;
        }

        public Submission envelope() {
            return envelope;
        }

        public byte[] content() {
            synchronized (FakeCleanup.this) {
                return content.toByteArray();
            }
        }

        /** The content as ISO-8859-1 text (one char per byte). */
        public String text() {
            return new String(content(), StandardCharsets.ISO_8859_1);
        }

        /** The length of each write call, in order. */
        public List<Integer> writeSizes() {
            synchronized (FakeCleanup.this) {
                return List.copyOf(writeSizes);
            }
        }

        /** The names of the threads that called open, write, commit and abort. */
        public List<String> threads() {
            synchronized (FakeCleanup.this) {
                return List.copyOf(threads);
            }
        }

        public State state() {
            synchronized (FakeCleanup.this) {
                return state;
            }
        }

        /** The queue ID commit returned, or null. */
        public String queueId() {
            synchronized (FakeCleanup.this) {
                return queueId;
            }
        }
    }

    private final List<Message> messages = new ArrayList<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private IOException openFailure;
    private IOException writeFailure;
    private long failWriteAfter = -1;
    private IOException commitFailure;
    private Reply rejection;
    private volatile CountDownLatch commitGate;
    private volatile CountDownLatch writeGate;
    private final AtomicInteger commitsWaiting = new AtomicInteger();
    private final AtomicInteger writesWaiting = new AtomicInteger();

    /** The next opens fail with this exception (null: they succeed). */
    public synchronized FakeCleanup failOpen(IOException e) {
        openFailure = e;
        return this;
    }

    /** A write fails with {@code e} once the message holds more than {@code afterBytes} bytes. */
    public synchronized FakeCleanup failWrite(long afterBytes, IOException e) {
        failWriteAfter = afterBytes;
        writeFailure = e;
        return this;
    }

    /** Commits fail with this exception (null: they succeed). */
    public synchronized FakeCleanup failCommit(IOException e) {
        commitFailure = e;
        return this;
    }

    /** Commits throw {@link Cleanup.Rejected} with this reply (null: they succeed). */
    public synchronized FakeCleanup reject(Reply reply) {
        rejection = reply;
        return this;
    }

    /** From now on commit blocks until {@link #releaseCommits()}. */
    public FakeCleanup holdCommits() {
        commitGate = new CountDownLatch(1);
        return this;
    }

    public void releaseCommits() {
        CountDownLatch gate = commitGate;
        commitGate = null;
        if (gate != null) {
            gate.countDown();
        }
    }

    /** From now on every write blocks until {@link #releaseWrites()}: a Cleanup that does not keep up. */
    public FakeCleanup holdWrites() {
        writeGate = new CountDownLatch(1);
        return this;
    }

    public void releaseWrites() {
        CountDownLatch gate = writeGate;
        writeGate = null;
        if (gate != null) {
            gate.countDown();
        }
    }

    /** How many commit calls are blocked on the gate now. */
    public int commitsWaiting() {
        return commitsWaiting.get();
    }

    /** How many write calls are blocked on the gate now. */
    public int writesWaiting() {
        return writesWaiting.get();
    }

    /** Every message opened so far, in order. */
    public synchronized List<Message> messages() {
        return List.copyOf(messages);
    }

    /** The messages that were committed, in order. */
    public synchronized List<Message> committed() {
        return messages.stream().filter(m -> m.state == State.COMMITTED).toList();
    }

    /** The only message opened; fails when there is not exactly one. */
    public synchronized Message single() {
        if (messages.size() != 1) {
            throw new AssertionError("expected exactly one message, got " + messages.size());
        }
        return messages.get(0);
    }

    @Override
    public Stream open(Submission envelope) throws IOException {
        Message m;
        synchronized (this) {
            if (openFailure != null) {
                throw openFailure;
            }
            m = new Message(envelope);
            m.threads.add(Thread.currentThread().getName());
            messages.add(m);
        }
        return new FakeStream(m);
    }

    private static void await(CountDownLatch gate, AtomicInteger waiting) throws IOException {
        if (gate == null) {
            return;
        }
        waiting.incrementAndGet();
        try {
            if (!gate.await(30, TimeUnit.SECONDS)) {
                throw new IOException("FakeCleanup: gate not released within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            waiting.decrementAndGet();
        }
    }

    private final class FakeStream implements Stream {
        private final Message m;

        FakeStream(Message m) {
            this.m = m;
        }

        @Override
        public void write(byte[] data, int offset, int length) throws IOException {
            await(writeGate, writesWaiting);
            synchronized (FakeCleanup.this) {
                m.threads.add(Thread.currentThread().getName());
                if (m.state != State.OPEN) {
                    throw new IllegalStateException("write after " + m.state);
                }
                m.content.write(data, offset, length);
                m.writeSizes.add(length);
                if (writeFailure != null && m.content.size() > failWriteAfter) {
                    throw writeFailure;
                }
            }
        }

        @Override
        public String commit() throws IOException, Rejected {
            await(commitGate, commitsWaiting);
            synchronized (FakeCleanup.this) {
                m.threads.add(Thread.currentThread().getName());
                if (m.state != State.OPEN) {
                    throw new IllegalStateException("commit after " + m.state);
                }
                if (commitFailure != null) {
                    m.state = State.FAILED;
                    throw commitFailure;
                }
                if (rejection != null) {
                    m.state = State.REJECTED;
                    throw new Rejected(rejection);
                }
                m.state = State.COMMITTED;
                m.queueId = String.format("4F%09X", nextId.getAndIncrement());
                return m.queueId;
            }
        }

        @Override
        public void abort() {
            synchronized (FakeCleanup.this) {
                m.threads.add(Thread.currentThread().getName());
                if (m.state == State.OPEN) {
                    m.state = State.ABORTED;
                }
            }
        }
    }
}
