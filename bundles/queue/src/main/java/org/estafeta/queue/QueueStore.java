package org.estafeta.queue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The mail queue. Registered as a service by the queue bundle (on {@code queue_directory}, after start-up
 * recovery); {@link FileQueueStore} is the same store for tools that work on the files while the gateway is down.
 */
@org.osgi.annotation.versioning.ProviderType
public interface QueueStore {
    /** {@code queue_directory}. */
    Path directory();

    /**
     * Starts a queue file with its envelope under a temporary name outside every queue, and assigns its ID.
     * Nothing appears in a queue before {@link Writer#commit}.
     */
    Writer create(Envelope envelope) throws IOException;

    /** The IDs in one queue, sorted (that is, in arrival order). */
    List<String> list(QueueName queue) throws IOException;

    /** Reads a committed queue file; throws when it is missing or fails its checks. */
    QueuedMessage read(QueueName queue, String id) throws IOException;

    /**
     * Moves a committed file from {@code from} to {@code to} by one atomic rename; false when it was not in
     * {@code from} (someone else moved or removed it). Not followed by a directory fsync: after a crash the file may
     * be found in {@code from} again, which only means another delivery attempt.
     */
    boolean move(QueueName from, String id, QueueName to) throws IOException;

    /** Removes a committed file and its deferral record; false when it was not in {@code queue}. */
    boolean delete(QueueName queue, String id) throws IOException;

    /**
     * Marks recipients done in place (the status byte of their {@code rcpt} line, docs/queue-file-format.md), so
     * that a later attempt does not deliver to them again. {@code indexes} are positions in the envelope's
     * recipient list. The change is written but not fsynced: after a crash a recipient may be delivered twice,
     * never lost, as with Postfix.
     */
    void markDone(QueueName queue, String id, java.util.Collection<Integer> indexes) throws IOException;

    /** When a deferred message is due for its next attempt (Postfix keeps it in the file's modification time). */
    java.time.Instant nextAttempt(QueueName queue, String id) throws IOException;

    /** Sets the time of the next attempt (the file's modification time). */
    void setNextAttempt(QueueName queue, String id, java.time.Instant when) throws IOException;

    /**
     * Records why recipients were deferred, replacing what was recorded before ({@code $queue_directory/defer/ID},
     * one {@code address reason} line each, xtext-encoded), for {@code postqueue -p}.
     */
    void recordDeferrals(String id, java.util.Map<String, String> reasonByRecipient) throws IOException;

    /** The reasons last recorded by {@link #recordDeferrals}, by recipient; empty when none. */
    java.util.Map<String, String> deferrals(String id) throws IOException;

    /**
     * Calls {@code listener} with the queue and ID of every file committed from now on, on the committing thread,
     * after the commit is durable (the queue manager's wake-up; Postfix's cleanup writes to qmgr's fifo). Closing
     * the returned handle removes the listener. Listeners must be quick and must not throw.
     */
    AutoCloseable onCommit(java.util.function.BiConsumer<QueueName, String> listener);

    /** A queue file being written. One thread at a time. */
    interface Writer {
        /** The queue ID (known from the start: it goes into the Received header). */
        String id();

        /** Appends content bytes; they are buffered in a fixed-size buffer and written through. */
        void write(byte[] data, int offset, int length) throws IOException;

        /**
         * Writes the commit trailer, fsyncs the file, renames it into {@code queue} and fsyncs that directory;
         * returns only then. On failure the temporary file is removed and nothing is in any queue.
         */
        void commit(QueueName queue) throws IOException;

        /**
         * As {@link #commit(QueueName)}, with the records decided while the content was read (header/body checks'
         * FILTER, REDIRECT, BCC; content filters' sender change and recipient removals) written after the content as the file's extracted segment (queue file version 2,
         * docs/queue-file-format.md). With {@link Envelope.Extracted#NONE} the file is an ordinary version 1 file.
         *
         * @since 1.2
         */
        default void commit(QueueName queue, Envelope.Extracted extracted) throws IOException {
            if (!extracted.isEmpty()) {
                abort();
                throw new IOException(id() + ": this queue store cannot write extracted records");
            }
            commit(queue);
        }

        /** Removes the temporary file. Never throws. */
        void abort();

        /** Content bytes written so far. */
        long size();
    }

    /** A committed queue file. */
    interface QueuedMessage {
        String id();

        /**
         * The envelope to work on: the envelope segment's records, then the extracted segment's, with the extracted
         * envelope changes applied ({@link Envelope#effective}: a content filter's new sender, its removed recipients
         * DONE). Recipient positions are those {@link QueueStore#markDone} takes.
         */
        Envelope envelope();

        /** Length of the content in bytes. */
        long contentLength();

        /**
         * The records of the file's extracted segment (version 2), which {@link #envelope()} already includes after
         * the envelope's own and applies; {@link Envelope.Extracted#NONE} for a version 1 file.
         *
         * @since 1.2
         */
        default Envelope.Extracted extracted() {
            return Envelope.Extracted.NONE;
        }

        /** The content, streamed from the file; the CRC is checked when the stream reaches its end. */
        InputStream content() throws IOException;
    }

    /**
     * Whether {@code e} says the queue file system has no room or cannot be written (full disk, quota, read-only
     * or not writable): the condition clients hear as {@code 452 4.3.1 Insufficient system storage}.
     */
    static boolean isStorageShortage(IOException e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return true;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded")
                    || m.contains("Read-only file system") || m.contains("Operation not permitted")
                    || m.contains("Permission denied"))) {
                return true;
            }
        }
        return false;
    }
}
