package org.estafeta.cleanup.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.estafeta.queue.QueueStore;

/**
 * Where a message waits for its content filters: the queue file's content cannot take lines on top once written, so
 * with filters cleanup writes the message here ({@code $queue_directory/tmp/filter.ID}, which the queue's start-up
 * recovery empties like every file under {@code tmp/}), lets the filters read it, and then copies it into the queue
 * file after the headers they added. Memory is one fixed buffer; the file is never fsynced (the queue file is).
 *
 * <p>One thread at a time, as the stream that owns it.
 */
final class Spool {
    private static final int BUFFER = 64 * 1024;

    private final Path file;
    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
    private long size;
    private boolean finished;

    private Spool(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /** Creates {@code directory/filter.ID}; the directory is the queue's {@code tmp/}. */
    static Spool create(Path directory, String id) throws IOException {
        Path file = directory.resolve("filter." + id);
        return new Spool(file, FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    }

    Path file() {
        return file;
    }

    long size() {
        return size;
    }

    void write(byte[] data, int offset, int length) throws IOException {
        while (length > 0) {
            int n = Math.min(length, buffer.remaining());
            buffer.put(data, offset, n);
            offset += n;
            length -= n;
            size += n;
            if (!buffer.hasRemaining()) {
                flush();
            }
        }
    }

    private void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }

    /** Writes out what is buffered and closes the file for writing; readers may open it from now on. */
    void finish() throws IOException {
        if (!finished) {
            finished = true;
            flush();
            channel.close();
        }
    }

    /** Appends the whole spooled message to the queue file. */
    void copyTo(QueueStore.Writer writer) throws IOException {
        finish();
        byte[] b = new byte[BUFFER];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(b)) >= 0) {
                writer.write(b, 0, n);
            }
        }
    }

    /** Closes and removes the file. Never throws. */
    void delete() {
        finished = true;
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to save
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // tmp/ is emptied at the next start
        }
    }
}
