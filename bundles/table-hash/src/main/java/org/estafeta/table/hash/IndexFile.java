package org.estafeta.table.hash;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.function.BiConsumer;

/**
 * One index file opened for reading (format: {@code docs/table-index-format.md}). The file is memory-mapped, so a
 * lookup reads a few pages of it and the heap never holds the table. An open index keeps answering from the file it
 * opened even after a rebuild renamed a new one over it; {@link #identity} tells the two apart.
 *
 * <p><b>Threading:</b> {@link #get} and {@link #forEach} may be called from many threads at once (they only use
 * absolute reads of the mapping).
 */
public final class IndexFile {
    static final byte[] MAGIC = "ESTAFIDX".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_SIZE = 64;

    private final Path path;
    private final MappedByteBuffer map;
    private final long count;
    private final int slots;
    private final int table;
    private final Identity identity;

    /** What tells one version of an index file from the next: inode (file key), modification time and size. */
    public record Identity(Object fileKey, long modifiedMillis, long size) {
        /** The identity of the file at {@code path} now, or {@code null} when it cannot be read. */
        public static Identity of(Path path) {
            try {
                BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
                return new Identity(a.fileKey(), a.lastModifiedTime().toMillis(), a.size());
            } catch (IOException e) {
                return null;
            }
        }
    }

    private IndexFile(Path path, MappedByteBuffer map, long count, int slots, int table, Identity identity) {
        this.path = path;
        this.map = map;
        this.count = count;
        this.slots = slots;
        this.table = table;
        this.identity = identity;
    }

    /**
     * Opens and checks the index at {@code path}.
     *
     * @throws java.nio.file.NoSuchFileException when it does not exist
     * @throws IOException naming the file when it is not an index of this format (a Berkeley DB file that Postfix's
     *         postmap made, say) or is damaged
     */
    public static IndexFile open(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw new IOException(path + ": index larger than 2 GB");
            }
            if (size < HEADER_SIZE) {
                throw notAnIndex(path);
            }
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            byte[] magic = new byte[MAGIC.length];
            map.get(0, magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw notAnIndex(path);
            }
            int version = map.getInt(8);
            if (version != VERSION) {
                throw new IOException(path + ": index format version " + version + ", expected " + VERSION
                        + "; rebuild it with estafeta postmap");
            }
            long count = map.getLong(16);
            long slots = map.getLong(24);
            long table = map.getLong(32);
            if (slots <= 0 || Long.bitCount(slots) != 1 || table < HEADER_SIZE || table + slots * 16 != size
                    || count > slots) {
                throw new IOException(path + ": damaged index (sizes do not add up); rebuild it with estafeta postmap");
            }
            return new IndexFile(path, map, count, (int) slots, (int) table,
                    new Identity(a.fileKey(), a.lastModifiedTime().toMillis(), a.size()));
        }
    }

    private static IOException notAnIndex(Path path) {
        return new IOException(path + ": not an Estafeta index file; rebuild it with estafeta postmap");
    }

    /** The file this index was opened from. */
    public Path path() {
        return path;
    }

    /** The identity of the file as opened. */
    public Identity identity() {
        return identity;
    }

    /** The number of keys. */
    public long size() {
        return count;
    }

    /** The value stored for {@code key} exactly as given (callers fold case first), or {@code null}. */
    public String get(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        long hash = hash(k);
        int mask = slots - 1;
        for (int slot = (int) hash & mask, probes = 0; probes < slots; slot = (slot + 1) & mask, probes++) {
            int at = table + slot * 16;
            long offset = map.getLong(at + 8);
            if (offset == 0) {
                return null;
            }
            if (map.getLong(at) == hash && keyEquals((int) offset, k)) {
                return string((int) offset + 8 + k.length, map.getInt((int) offset + 4));
            }
        }
        return null;
    }

    /** Every key and value, in slot (hash) order, as {@code postmap -s} lists a hash table. */
    public void forEach(BiConsumer<String, String> action) {
        for (int slot = 0; slot < slots; slot++) {
            long offset = map.getLong(table + slot * 16 + 8);
            if (offset != 0) {
                int o = (int) offset;
                int keyLength = map.getInt(o);
                action.accept(string(o + 8, keyLength), string(o + 8 + keyLength, map.getInt(o + 4)));
            }
        }
    }

    private boolean keyEquals(int offset, byte[] k) {
        if (map.getInt(offset) != k.length) {
            return false;
        }
        for (int i = 0; i < k.length; i++) {
            if (map.get(offset + 8 + i) != k[i]) {
                return false;
            }
        }
        return true;
    }

    private String string(int offset, int length) {
        byte[] b = new byte[length];
        map.get(offset, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** The 64-bit hash of a key's bytes: FNV-1a, then a final mix so that the low bits (the slot) spread well. */
    static long hash(byte[] key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
