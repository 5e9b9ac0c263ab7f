package org.estafeta.queue;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue as files under {@code queue_directory}: one directory per {@link QueueName} and {@code tmp/} for files
 * being written. See docs/queue-file-format.md.
 */
public final class FileQueueStore implements QueueStore {
    /** Files being written live here until commit; whatever is left at start-up was never acknowledged. */
    public static final String WORK_DIRECTORY = "tmp";
    static final int BUFFER = 64 * 1024;
    private static final Logger log = LoggerFactory.getLogger("qmgr");

    private final Path directory;
    private final LongSupplier micros;
    private final AtomicLong lastMicros = new AtomicLong();
    private final AtomicLong tempCounter = new AtomicLong();
    private final java.util.concurrent.CopyOnWriteArrayList<java.util.function.BiConsumer<QueueName, String>> listeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A store on {@code directory}, creating the queue directories (mode 0700 where POSIX permissions exist). */
    public FileQueueStore(Path directory) throws IOException {
        this(directory, Clock.systemUTC());
    }

    FileQueueStore(Path directory, Clock clock) throws IOException {
        this.directory = directory.toAbsolutePath();
        this.micros = () -> {
            Instant now = clock.instant();
            return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
        };
        for (QueueName q : QueueName.values()) {
            mkdir(this.directory.resolve(q.directory()));
        }
        mkdir(this.directory.resolve(WORK_DIRECTORY));
        mkdir(this.directory.resolve(DEFER_DIRECTORY));
    }

    /** Deferral reasons per message, for postqueue -p (Postfix's {@code defer/} logs). */
    public static final String DEFER_DIRECTORY = "defer";

    private static void mkdir(Path p) throws IOException {
        if (!Files.isDirectory(p)) {
            Files.createDirectories(p);
            try {
                Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: keep the default
            }
        }
    }

    @Override
    public Path directory() {
        return directory;
    }

    @Override
    public Writer create(Envelope envelope) throws IOException {
        Path temp = directory.resolve(WORK_DIRECTORY)
                .resolve("t" + ProcessHandle.current().pid() + "." + tempCounter.incrementAndGet());
        FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            long fileNumber;
            try {
                fileNumber = ((Number) Files.getAttribute(temp, "unix:ino")).longValue();
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                fileNumber = ProcessHandle.current().pid();
            }
            String id = QueueId.of(nextMicros(), fileNumber);
            FileWriter w = new FileWriter(id, temp, ch);
            w.writeRaw(QueueFileFormat.header(envelope));
            return w;
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    /** Strictly increasing in this process, so two IDs made here never share their time part. */
    private long nextMicros() {
        long now = micros.getAsLong();
        return lastMicros.updateAndGet(last -> Math.max(now, last + 1));
    }

    private final class FileWriter implements Writer {
        private final String id;
        private final Path temp;
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
        private final CRC32C crc = new CRC32C();
        private long size;
        private boolean closed;

        FileWriter(String id, Path temp, FileChannel channel) {
            this.id = id;
            this.temp = temp;
            this.channel = channel;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public long size() {
            return size;
        }

        void writeRaw(byte[] b) throws IOException {
            put(b, 0, b.length);
        }

        private void put(byte[] data, int offset, int length) throws IOException {
            while (length > 0) {
                int n = Math.min(length, buffer.remaining());
                buffer.put(data, offset, n);
                offset += n;
                length -= n;
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

        @Override
        public void write(byte[] data, int offset, int length) throws IOException {
            if (closed) {
                throw new IOException(id + ": queue file already closed");
            }
            crc.update(data, offset, length);
            size += length;
            put(data, offset, length);
        }

        @Override
        public void commit(QueueName queue) throws IOException {
            commit(queue, Envelope.Extracted.NONE);
        }

        @Override
        public void commit(QueueName queue, Envelope.Extracted extracted) throws IOException {
            if (closed) {
                throw new IOException(id + ": queue file already closed");
            }
            Path target = directory.resolve(queue.directory()).resolve(id);
            try {
                if (!extracted.isEmpty()) {
                    // version 2: the extracted segment after the content, and the version digit raised in place
                    writeRaw(QueueFileFormat.extracted(extracted));
                    flush();
                    ByteBuffer two = ByteBuffer.wrap(new byte[] {'2'});
                    while (two.hasRemaining()) {
                        channel.write(two, QueueFileFormat.VERSION_OFFSET + two.position());
                    }
                }
                writeRaw(QueueFileFormat.trailer(size, crc.getValue()));
                flush();
                channel.force(true);
                channel.close();
                if (Files.exists(target)) {
                    throw new IOException(id + ": queue file exists: " + target);
                }
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                closed = true;
                fsyncDirectory(target.getParent());
                for (var l : listeners) {
                    try {
                        l.accept(queue, id);
                    } catch (RuntimeException e) {
                        log.warn("{}: commit listener failed: {}", id, e.toString());
                    }
                }
            } catch (IOException | RuntimeException e) {
                abort();
                // the rename may have happened and only the directory fsync failed: never leave it half-durable
                if (closed) {
                    try {
                        Files.deleteIfExists(target);
                    } catch (IOException ignored) {
                        // reported through e
                    }
                }
                throw e;
            }
        }

        @Override
        public void abort() {
            closed = true;
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing to save
            }
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                log.warn("{}: remove {}: {}", id, temp, e.toString());
            }
        }
    }

    /** Makes a directory entry durable (Linux: fsync on the directory). */
    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    @Override
    public List<String> list(QueueName queue) throws IOException {
        List<String> ids = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory.resolve(queue.directory()))) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (QueueId.isValid(name)) {
                    ids.add(name);
                }
            }
        }
        ids.sort(null);
        return ids;
    }

    @Override
    public QueuedMessage read(QueueName queue, String id) throws IOException {
        return open(directory.resolve(queue.directory()).resolve(id), id);
    }

    /**
     * Opens and checks the structure of a queue file (not the content CRC: {@link QueuedMessage#content} does). Its
     * {@link QueuedMessage#envelope()} is the effective envelope ({@link Envelope#effective}): every reader of queue
     * files (queue manager, postqueue, postcat, recovery) comes through here.
     */
    static FileMessage open(Path file, String id) throws IOException {
        long fileSize;
        byte[] trailer = new byte[QueueFileFormat.TRAILER_LENGTH];
        Envelope envelope;
        Envelope.Extracted extracted = Envelope.Extracted.NONE;
        long[] consumed = new long[2];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            fileSize = ch.size();
            if (fileSize < trailer.length) {
                throw new UncommittedException(id + ": no commit marker");
            }
            ByteBuffer bb = ByteBuffer.wrap(trailer);
            long pos = fileSize - trailer.length;
            while (bb.hasRemaining()) {
                int n = ch.read(bb, pos + bb.position());
                if (n < 0) {
                    throw new EOFException();
                }
            }
            if (QueueFileFormat.parseTrailer(trailer).isEmpty()) {
                throw new UncommittedException(id + ": no commit marker");
            }
            ch.position(0);
            envelope = QueueFileFormat.readHeader(new BufferedInputStream(Channels.newInputStream(ch), 8192), consumed);
            long contentLength = QueueFileFormat.parseTrailer(trailer).orElseThrow()[0];
            long segment = fileSize - trailer.length - consumed[0] - contentLength;
            if (consumed[1] == 2 && segment > 0 && segment <= QueueFileFormat.MAX_EXTRACTED) {
                ByteBuffer x = ByteBuffer.allocate((int) segment);
                while (x.hasRemaining()) {
                    if (ch.read(x, consumed[0] + contentLength + x.position()) < 0) {
                        throw new EOFException(id + ": queue file truncated in the extracted segment");
                    }
                }
                extracted = QueueFileFormat.parseExtracted(x.array());
            } else if (segment != 0 || consumed[1] == 2) {
                throw new IOException(id + ": content length " + contentLength + " does not match the file size "
                        + fileSize);
            }
        }
        long[] t = QueueFileFormat.parseTrailer(trailer).orElseThrow();
        return new FileMessage(file, id, envelope, extracted, consumed[0], t[0], t[1]);
    }

    /**
     * A committed queue file as {@link #open} read it. Immutable; {@link #content} opens the file again on each call
     * (any thread).
     */
    static final class FileMessage implements QueuedMessage {
        private final Path file;
        private final String id;
        private final Envelope recorded;
        private final Envelope.Extracted extracted;
        private final Envelope effective;
        private final long offset;
        private final long contentLength;
        private final long expectedCrc;

        FileMessage(Path file, String id, Envelope recorded, Envelope.Extracted extracted, long offset,
                long contentLength, long expectedCrc) {
            this.file = file;
            this.id = id;
            this.recorded = recorded;
            this.extracted = extracted;
            // the one place where the extracted segment's sender change and recipient removals are applied
            this.effective = recorded.effective(extracted);
            this.offset = offset;
            this.contentLength = contentLength;
            this.expectedCrc = expectedCrc;
        }

        @Override
        public String id() {
            return id;
        }

        /** The envelope segment as written (sender and statuses of its own records), for postcat. */
        Envelope recorded() {
            return recorded;
        }

        @Override
        public Envelope envelope() {
            return effective;
        }

        @Override
        public Envelope.Extracted extracted() {
            return extracted;
        }

        @Override
        public long contentLength() {
            return contentLength;
        }

        @Override
        public InputStream content() throws IOException {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            ch.position(offset);
            InputStream raw = new BufferedInputStream(Channels.newInputStream(ch), BUFFER);
            return new CheckedContent(raw, contentLength, expectedCrc, id);
        }
    }

    /** A queue file that never got its commit marker. */
    static final class UncommittedException extends IOException {
        private static final long serialVersionUID = 1L;

        UncommittedException(String message) {
            super(message);
        }
    }

    private static final class CheckedContent extends FilterInputStream {
        private final CRC32C crc = new CRC32C();
        private final long expected;
        private final String id;
        private long left;

        CheckedContent(InputStream in, long length, long expected, String id) {
            super(in);
            this.left = length;
            this.expected = expected;
            this.id = id;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left == 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException(id + ": queue file content truncated");
            }
            crc.update(b, off, n);
            left -= n;
            if (left == 0 && crc.getValue() != expected) {
                throw new IOException(id + ": queue file content checksum mismatch");
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] b = new byte[8192];
            long done = 0;
            while (done < n) {
                int r = read(b, 0, (int) Math.min(b.length, n - done));
                if (r < 0) {
                    break;
                }
                done += r;
            }
            return done;
        }
    }

    /**
     * The queue manager's moves between queues are not followed by a directory fsync, as in Postfix: a crash can
     * only undo the rename, and then the message is found in its previous queue and delivered (again) — at least
     * once, never lost. The one fsync that the promise needs is the commit's, before the 250.
     */
    @Override
    public boolean move(QueueName from, String id, QueueName to) throws IOException {
        return new QueueAdmin(directory).move(from, id, to, false);
    }

    /** Removal of delivered mail, without a directory fsync: a crash can only bring it back for another delivery. */
    @Override
    public boolean delete(QueueName queue, String id) throws IOException {
        boolean removed = new QueueAdmin(directory).delete(queue, id, false);
        if (removed && QueueId.isValid(id)) {
            Files.deleteIfExists(directory.resolve(DEFER_DIRECTORY).resolve(id));
        }
        return removed;
    }

    @Override
    public void markDone(QueueName queue, String id, java.util.Collection<Integer> indexes) throws IOException {
        if (indexes.isEmpty()) {
            return;
        }
        Path file = directory.resolve(queue.directory()).resolve(id);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // the recipients are numbered through the envelope, then (version 2) the extracted segment; a recipient
            // removed by an extracted "remove" action keeps its number (Envelope#effective only marks it DONE in
            // memory), so the numbers here and in the effective envelope stay the same
            byte[] magic = new byte[QueueFileFormat.MAGIC.length()];
            ch.read(ByteBuffer.wrap(magic), 0);
            boolean v2 = new String(magic, java.nio.charset.StandardCharsets.US_ASCII).equals(QueueFileFormat.MAGIC_V2);
            byte[] trailer = new byte[QueueFileFormat.TRAILER_LENGTH];
            long end = ch.size() - trailer.length;
            ch.read(ByteBuffer.wrap(trailer), end);
            long contentLength = QueueFileFormat.parseTrailer(trailer)
                    .orElseThrow(() -> new IOException(id + ": no commit marker in " + file))[0];
            InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 8192);
            byte[] head = new byte[10];
            long pos = 0;
            long lineStart = 0;
            int col = 0;
            int rcpt = 0;
            boolean inExtracted = false;
            int c;
            while (pos < end && (c = in.read()) >= 0) {
                if (col < head.length) {
                    head[col] = (byte) c;
                }
                col++;
                pos++;
                if (c != '\n') {
                    continue;
                }
                String start = new String(head, 0, Math.min(col - 1, head.length), java.nio.charset.StandardCharsets.US_ASCII);
                if (start.startsWith("rcpt ")) {
                    if (indexes.contains(rcpt)) {
                        // the status byte follows "rcpt " (docs/queue-file-format.md); positional write, own offset
                        ch.write(ByteBuffer.wrap(new byte[] {(byte) Envelope.Status.DONE.code}), lineStart + 5);
                    }
                    rcpt++;
                } else if (!inExtracted && col - 1 == QueueFileFormat.CONTENT.length()
                        && start.equals(QueueFileFormat.CONTENT)) {
                    if (!v2) {
                        return;
                    }
                    // skip the content: the extracted segment's recipients follow it
                    inExtracted = true;
                    pos += contentLength;
                    ch.position(pos);
                    in = new BufferedInputStream(Channels.newInputStream(ch), 8192);
                }
                lineStart = pos;
                col = 0;
            }
            if (inExtracted) {
                return;
            }
            throw new IOException(id + ": no end of envelope in " + file);
        }
    }

    @Override
    public java.time.Instant nextAttempt(QueueName queue, String id) throws IOException {
        return Files.getLastModifiedTime(directory.resolve(queue.directory()).resolve(id)).toInstant();
    }

    @Override
    public void setNextAttempt(QueueName queue, String id, java.time.Instant when) throws IOException {
        Files.setLastModifiedTime(directory.resolve(queue.directory()).resolve(id),
                java.nio.file.attribute.FileTime.from(when));
    }

    @Override
    public void recordDeferrals(String id, java.util.Map<String, String> reasonByRecipient) throws IOException {
        if (!QueueId.isValid(id)) {
            throw new IOException("bad queue ID: " + id);
        }
        StringBuilder sb = new StringBuilder();
        reasonByRecipient.forEach((r, why) -> sb.append(QueueFileFormat.xtext(r)).append(' ')
                .append(QueueFileFormat.xtext(why)).append('\n'));
        Path dir = directory.resolve(DEFER_DIRECTORY);
        Path tmp = dir.resolve("." + id + ".tmp");
        Files.writeString(tmp, sb, java.nio.charset.StandardCharsets.US_ASCII);
        Files.move(tmp, dir.resolve(id), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public java.util.Map<String, String> deferrals(String id) throws IOException {
        return readDeferrals(directory, id);
    }

    static java.util.Map<String, String> readDeferrals(Path directory, String id) throws IOException {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        if (!QueueId.isValid(id)) {
            return out;
        }
        Path f = directory.resolve(DEFER_DIRECTORY).resolve(id);
        if (!Files.isRegularFile(f)) {
            return out;
        }
        for (String line : Files.readAllLines(f, java.nio.charset.StandardCharsets.US_ASCII)) {
            String[] p = line.split(" ", 2);
            if (p.length == 2) {
                out.put(QueueFileFormat.unxtext(p[0]), QueueFileFormat.unxtext(p[1]));
            }
        }
        return out;
    }

    @Override
    public AutoCloseable onCommit(java.util.function.BiConsumer<QueueName, String> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** What {@link #recover} did. */
    public record Recovery(List<String> removed, List<String> corrupted, List<String> requeued) {
    }

    /**
     * Start-up recovery: files in {@code tmp/} and queue files without a commit marker are removed (they were
     * never acknowledged), unreadable ones move to {@code corrupt/}, mail in {@code active/} goes back to
     * {@code incoming/}. Each step is logged.
     */
    public Recovery recover() throws IOException {
        List<String> removed = new ArrayList<>();
        List<String> corrupted = new ArrayList<>();
        List<String> requeued = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory.resolve(WORK_DIRECTORY))) {
            for (Path p : ds) {
                Files.deleteIfExists(p);
                removed.add(p.getFileName().toString());
                log.warn("removed unfinished queue file {}", p);
            }
        }
        for (QueueName q : QueueName.values()) {
            if (q == QueueName.CORRUPT || q == QueueName.MAILDROP) {
                continue; // corrupt/ is the end of the line; maildrop/ belongs to local submission (pickup)
            }
            Path dir = directory.resolve(q.directory());
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                ds.forEach(files::add);
            }
            files.sort(null);
            for (Path p : files) {
                String id = p.getFileName().toString();
                try {
                    open(p, id);
                } catch (UncommittedException e) {
                    Files.deleteIfExists(p);
                    removed.add(id);
                    log.warn("{}: removed queue file {} without commit marker (never acknowledged)", id, p);
                    continue;
                } catch (NoSuchFileException e) {
                    continue;
                } catch (IOException | RuntimeException e) {
                    Path target = directory.resolve(QueueName.CORRUPT.directory()).resolve(id);
                    Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
                    fsyncDirectory(target.getParent());
                    corrupted.add(id);
                    log.warn("{}: saving corrupt queue file {} to {}: {}", id, p, target, e.getMessage());
                    continue;
                }
                if (q == QueueName.ACTIVE) {
                    Path target = directory.resolve(QueueName.INCOMING.directory()).resolve(id);
                    Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
                    fsyncDirectory(target.getParent());
                    requeued.add(id);
                    log.info("{}: requeued from active to incoming", id);
                }
            }
        }
        return new Recovery(removed, corrupted, requeued);
    }
}
