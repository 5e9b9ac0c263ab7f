package org.estafeta.queue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The mail queue. Registered as a service by the queue bundle (on {@code queue_directory}, after start-up
 * recovery); {@link FileQueueStore} is the same store for tools that work on the files while the gateway is down.
 */
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

        /** Removes the temporary file. Never throws. */
        void abort();

        /** Content bytes written so far. */
        long size();
    }

    /** A committed queue file. */
    interface QueuedMessage {
        String id();

        Envelope envelope();

        /** Length of the content in bytes. */
        long contentLength();

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
