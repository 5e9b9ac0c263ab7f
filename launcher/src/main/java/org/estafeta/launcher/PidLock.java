package org.estafeta.launcher;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * {@code $queue_directory/pid/master.pid}: an exclusive lock held for the life of the gateway, so that two
 * gateways never share a queue directory, and the pid in it as Postfix's master writes it (the decimal pid right
 * aligned in a field of {@code sizeof(unsigned long) * 4} = 32 characters, then a newline), for monitoring tools.
 * The file stays after the gateway stops, as Postfix leaves it; the lock is what says "running".
 *
 * <p>The lock is a POSIX record lock ({@code fcntl}, what {@link FileChannel#tryLock} takes on Linux), and POSIX
 * drops every lock a process holds on a file as soon as the process closes <em>any</em> descriptor of that file.
 * So nothing in the gateway's JVM may open a held master.pid: this class keeps the held files in {@link #HELD}
 * and answers for them without opening them, and everything else reads the pid from
 * {@link ProcessHandle#current()}.
 */
final class PidLock implements AutoCloseable {
    private static final int FIELD = 32;
    /** The master.pid files this JVM holds, by real path. */
    private static final java.util.concurrent.ConcurrentMap<Path, PidLock> HELD =
            new java.util.concurrent.ConcurrentHashMap<>();

    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;

    private PidLock(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock and writes our pid, or says who holds it. */
    static synchronized PidLock acquire(Path pidFile) throws GatewayException {
        FileChannel ch = null;
        try {
            Files.createDirectories(pidFile.getParent());
            if (HELD.containsKey(key(pidFile))) {
                // Held by another gateway in this JVM: opening the file again would drop its lock (see above).
                throw new GatewayException("the Estafeta mail system is already running (pid "
                        + ProcessHandle.current().pid() + "): open lock file " + pidFile
                        + ": unable to set exclusive lock");
            }
            ch = FileChannel.open(pidFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            try {
                Files.setPosixFilePermissions(pidFile, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException | IOException e) {
                // best effort, as open(2) with mode 0600
            }
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null; // another gateway in this JVM holds it
            }
            if (l == null) {
                ch.close();
                String who = readPid(pidFile).map(p -> " (pid " + p + ")").orElse("");
                throw new GatewayException("the Estafeta mail system is already running" + who
                        + ": open lock file " + pidFile + ": unable to set exclusive lock");
            }
            byte[] text = format(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII);
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(text), 0);
            ch.force(true);
            PidLock held = new PidLock(pidFile, ch, l);
            HELD.put(key(pidFile), held);
            return held;
        } catch (IOException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            throw new GatewayException("open lock file " + pidFile + ": " + e.getMessage(), e);
        }
    }

    /** The pid line as Postfix's master writes it: {@code "%*lu\n"} with a width of 32. */
    static String format(long pid) {
        return String.format("%" + FIELD + "d\n", pid);
    }

    /** The pid in a master.pid file, if the file exists and holds one. */
    static Optional<Long> readPid(Path pidFile) {
        if (HELD.containsKey(key(pidFile))) {
            return Optional.of(ProcessHandle.current().pid());
        }
        try {
            String s = Files.readString(pidFile, StandardCharsets.US_ASCII).trim();
            return s.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(s));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether some process holds the lock (the gateway is running), tested as Postfix's {@code master -t} does:
     * no file means not running.
     */
    static boolean isLocked(Path pidFile) {
        if (!Files.exists(pidFile)) {
            return false;
        }
        if (HELD.containsKey(key(pidFile))) {
            return true;
        }
        try (FileChannel ch = FileChannel.open(pidFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) {
                return true;
            }
            l.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    Path path() {
        return path;
    }

    private static Path key(Path pidFile) {
        Path abs = pidFile.toAbsolutePath().normalize();
        try {
            return abs.toRealPath();
        } catch (IOException e) {
            return abs;
        }
    }

    @Override
    public void close() {
        synchronized (PidLock.class) {
            HELD.remove(key(path), this);
        }
        try {
            if (lock.isValid()) {
                lock.release();
            }
            channel.close();
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
    }
}
