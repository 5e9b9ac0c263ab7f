package org.estafeta.table.hash;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Builds one index file (format: {@code docs/table-index-format.md}) into a temporary file beside it; {@link #commit}
 * writes the slot table and header, forces the file to disk and renames it over the index, so a reader sees the old
 * index or the new one, never a part. Records go to disk as they are added: the heap holds only two {@code long}s
 * per slot (a key's hash and its record's offset), whatever the size of keys and values.
 *
 * <p>Not thread-safe: one builder per thread. {@link #close} without {@link #commit} removes the temporary file.
 */
public final class IndexWriter implements AutoCloseable {
    /** What {@link #put} does when the key is already present. */
    public enum Duplicates {
        /** keep the first value (postmap's default; the caller warns) */
        KEEP_FIRST,
        /** replace the value (postmap -r) */
        REPLACE
    }

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    private long position = IndexFile.HEADER_SIZE;
    private long[] hashes = new long[1024];
    private long[] offsets = new long[1024]; // record offset, 0 = empty slot
    private long count;
    private boolean committed;

    private IndexWriter(Path target, Path temp, FileChannel channel) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
    }

    /** Starts a new index that {@link #commit} will put at {@code index}. */
    public static IndexWriter create(Path index) throws IOException {
        Path dir = index.toAbsolutePath().getParent();
        Path temp = Files.createTempFile(dir, "." + index.getFileName() + ".", ".tmp");
        FileChannel ch = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        return new IndexWriter(index, temp, ch);
    }

    /** The number of distinct keys so far. */
    public long size() {
        return count;
    }

    /**
     * Adds {@code key} with {@code value} (both stored as given, UTF-8).
     *
     * @return false when the key was present already (its value kept or replaced as {@code duplicates} says)
     */
    public boolean put(String key, String value, Duplicates duplicates) throws IOException {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        long hash = IndexFile.hash(k);
        int mask = offsets.length - 1;
        int slot = (int) hash & mask;
        while (offsets[slot] != 0) {
            if (hashes[slot] == hash && Arrays.equals(keyAt(offsets[slot]), k)) {
                if (duplicates == Duplicates.REPLACE) {
                    offsets[slot] = append(k, v); // the old record stays behind, unreachable
                }
                return false;
            }
            slot = (slot + 1) & mask;
        }
        hashes[slot] = hash;
        offsets[slot] = append(k, v);
        if (++count * 2 > offsets.length) {
            grow();
        }
        return true;
    }

    private long append(byte[] k, byte[] v) throws IOException {
        long at = position;
        put(ByteBuffer.allocate(8).putInt(k.length).putInt(v.length).flip());
        put(ByteBuffer.wrap(k));
        put(ByteBuffer.wrap(v));
        return at;
    }

    private void put(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (!buffer.hasRemaining()) {
                flush();
            }
            int n = Math.min(b.remaining(), buffer.remaining());
            buffer.put(buffer.position(), b, b.position(), n);
            buffer.position(buffer.position() + n);
            b.position(b.position() + n);
            position += n;
        }
    }

    private void flush() throws IOException {
        buffer.flip();
        long at = position - buffer.remaining();
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
        }
        buffer.clear();
    }

    private byte[] keyAt(long offset) throws IOException {
        flush();
        ByteBuffer lengths = ByteBuffer.allocate(8);
        readFully(lengths, offset);
        ByteBuffer key = ByteBuffer.allocate(lengths.getInt(0));
        readFully(key, offset + 8);
        return key.array();
    }

    private void readFully(ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            int n = channel.read(b, at + b.position());
            if (n < 0) {
                throw new IOException(temp + ": unexpected end of file");
            }
        }
    }

    private void grow() {
        long[] oldHashes = hashes;
        long[] oldOffsets = offsets;
        hashes = new long[oldOffsets.length * 2];
        offsets = new long[oldOffsets.length * 2];
        int mask = offsets.length - 1;
        for (int i = 0; i < oldOffsets.length; i++) {
            if (oldOffsets[i] != 0) {
                int slot = (int) oldHashes[i] & mask;
                while (offsets[slot] != 0) {
                    slot = (slot + 1) & mask;
                }
                hashes[slot] = oldHashes[i];
                offsets[slot] = oldOffsets[i];
            }
        }
    }

    /** Writes the slot table and header, forces the file to disk and renames it over the index. */
    public void commit() throws IOException {
        long tableOffset = position;
        for (int i = 0; i < offsets.length; i++) {
            put(ByteBuffer.allocate(16).putLong(hashes[i]).putLong(offsets[i]).flip());
        }
        flush();
        ByteBuffer header = ByteBuffer.allocate(IndexFile.HEADER_SIZE);
        header.put(IndexFile.MAGIC).putInt(IndexFile.VERSION).putInt(0).putLong(count).putLong(offsets.length)
                .putLong(tableOffset).clear();
        writeAt0(header);
        channel.force(true);
        channel.close();
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        committed = true;
        try (FileChannel dir = FileChannel.open(target.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true); // the rename itself survives a crash
        } catch (IOException notSupported) {
            // some file systems cannot sync a directory; the rename is still atomic
        }
    }

    private void writeAt0(ByteBuffer header) throws IOException {
        long at = 0;
        while (header.hasRemaining()) {
            at += channel.write(header, at);
        }
    }

    @Override
    public void close() throws IOException {
        if (!committed) {
            channel.close();
            Files.deleteIfExists(temp);
        }
    }
}
