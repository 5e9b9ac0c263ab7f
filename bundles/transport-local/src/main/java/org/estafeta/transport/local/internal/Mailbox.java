package org.estafeta.transport.local.internal;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.estafeta.api.message.MessageContent;
import org.estafeta.process.support.UnixAccount;

/**
 * mbox and Maildir delivery as Postfix's mbox_open(), mail_copy() and maildir code do it, for a gateway that runs as
 * root: files are written by the JVM, then given to the recipient with chown. Since the JVM does not take the
 * recipient's identity, it refuses to follow symbolic links at the last component, and callers check the path
 * below the recipient's own directory for links ({@link #symlinkBelow}) and the recipient's write permission
 * ({@link #writableBy}).
 *
 * <p>mbox locking is Postfix's {@code mailbox_delivery_lock = fcntl, dotlock}: {@code file.lock} created exclusively
 * (stale after 500s), then a POSIX record lock on the file, both tried for up to {@value #LOCK_WAIT_SECONDS}s
 * (Postfix's {@code deliver_lock_attempts} x {@code deliver_lock_delay}), in short random steps. In one JVM the dotlock
 * is what keeps two deliveries apart (Java refuses a second record lock of a file in the same process with
 * {@link OverlappingFileLockException}, which is treated as busy too); between processes both locks count, so a mail
 * reader that locks either way is safe.
 */
final class Mailbox {
    static final long LOCK_WAIT_SECONDS = 20;
    private static final long STALE_LOCK_SECONDS = 500;
    private static final AtomicLong COUNTER = new AtomicLong();
    private static final String HOSTNAME = hostname();

    /** The recipient's identity for chown and permission checks. */
    record Owner(int uid, int gid) {
    }

    /** The write went past the size limit: EFBIG, as a file size resource limit gives it in Postfix. */
    static final class FileTooLarge extends IOException {
        private static final long serialVersionUID = 1L;

        FileTooLarge() {
            super("File too large");
        }
    }

    private Mailbox() {
    }

    /**
     * Appends a message to an mbox-style file (created 0600 and chowned to {@code owner} when absent).
     *
     * @param limit the largest size the file may reach, 0 for none ({@code mailbox_size_limit})
     * @param mailbox true for a mailbox (the dotlock must succeed, the file must be owned by the recipient), false
     *        for a {@code /file/name} target (the dotlock may fail, executable files are refused)
     * @param defaultDsn the status for errors that do not say otherwise ({@code 5.2.0} local, {@code 4.2.0} virtual)
     * @return delivered (text empty), or the failure with Postfix's reason, for the caller to prefix
     */
    static Outcome appendMbox(Path path, Owner owner, MessageCopy copy, MessageContent content, long limit,
            boolean mailbox, String defaultDsn) {
        Path lock = path.resolveSibling(path.getFileName() + ".lock");
        boolean dotlocked = false;
        try {
            if (!Files.exists(path, NOFOLLOW_LINKS) || Files.isRegularFile(path, NOFOLLOW_LINKS)) {
                String problem = dotlock(lock);
                if (problem == null) {
                    dotlocked = true;
                } else if (problem.endsWith("File exists")) {
                    return Outcome.deferred("4.2.0", problem);
                } else if (mailbox) {
                    return Outcome.failed(dsn(problem, defaultDsn), problem);
                }
            }
            return append(path, owner, copy, content, limit, mailbox, defaultDsn);
        } finally {
            if (dotlocked) {
                try {
                    Files.deleteIfExists(lock);
                } catch (IOException e) {
                    // a lock left behind goes stale; nothing else to do
                }
            }
        }
    }

    private static Outcome append(Path path, Owner owner, MessageCopy copy, MessageContent content, long limit,
            boolean mailbox, String defaultDsn) {
        boolean existed = Files.exists(path, NOFOLLOW_LINKS);
        if (Files.isSymbolicLink(path)) {
            return Outcome.failed(defaultDsn, "file is a symbolic link");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(path, Set.of(CREATE, WRITE, APPEND, NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (IOException e) {
            String why = reason(e);
            return Outcome.failed(dsn(why, defaultDsn), "cannot open file: " + why);
        }
        try (ch) {
            if (!existed) {
                chown(path, owner);
            }
            boolean regular = Files.isRegularFile(path, NOFOLLOW_LINKS);
            FileLock fcntl = regular ? fcntlLock(ch) : null;
            if (regular && fcntl == null) {
                return Outcome.deferred("4.2.0", "unable to lock for exclusive access: Resource temporarily unavailable");
            }
            if (regular && ((Integer) Files.getAttribute(path, "unix:nlink", NOFOLLOW_LINKS)) != 1) {
                return Outcome.deferred("4.2.0", "target file status changed unexpectedly");
            }
            if (mailbox && !regular) {
                return Outcome.bounced("5.2.0", "destination " + path + " is not a regular file");
            }
            if (mailbox && ((Integer) Files.getAttribute(path, "unix:uid", NOFOLLOW_LINKS)) != owner.uid()) {
                return Outcome.deferred("4.2.0", "destination " + path + " is not owned by recipient");
            }
            if (!mailbox && regular && (((Integer) Files.getAttribute(path, "unix:mode")) & 0111) != 0) {
                return Outcome.bounced("5.7.1", "file is executable");
            }
            long start = regular ? ch.size() : 0;
            try {
                OutputStream out = new BufferedOutputStream(limited(Channels.newOutputStream(ch), limit, start), 65536);
                copy.write(content, out, MessageCopy.Style.MBOX);
                if (regular) {
                    ch.force(true);
                }
                return Outcome.sent("");
            } catch (IOException e) {
                if (regular) {
                    ch.truncate(start); // Postfix's undo: the mailbox is as it was
                }
                return writeFailure(e);
            }
        } catch (IOException e) {
            String why = reason(e);
            return Outcome.failed(dsn(why, defaultDsn), why);
        }
    }

    /**
     * Delivers a message into a Maildir ({@code dir} ends in {@code /}): writes {@code tmp/time.PpidQn.host}, fsyncs
     * it, links it to {@code new/time.VdevIinoMusec.host} (unique while the file exists: its inode), removes the tmp
     * name and fsyncs {@code new/}. Missing directories are created 0700 and chowned to {@code owner}.
     *
     * @param limit the largest size one message file may reach, 0 for none
     * @return delivered (text empty), or the failure with Postfix's reason, for the caller to prefix
     */
    static Outcome deliverMaildir(Path dir, Owner owner, MessageCopy copy, MessageContent content, long limit,
            String defaultDsn) {
        java.time.Instant now = java.time.Instant.now();
        long seconds = now.getEpochSecond();
        Path tmp = dir.resolve("tmp").resolve(seconds + ".P" + ProcessHandle.current().pid() + "Q"
                + COUNTER.incrementAndGet() + "." + HOSTNAME);
        Path newFile = null;
        try {
            for (String sub : new String[] {"tmp", "new", "cur"}) {
                makeDirs(dir.resolve(sub), owner);
            }
        } catch (IOException e) {
            String why = reason(e);
            return Outcome.failed(dsn(why, defaultDsn), "create maildir file " + tmp + ": " + why);
        }
        try (FileChannel ch = FileChannel.open(tmp, Set.of(CREATE_NEW, WRITE, NOFOLLOW_LINKS),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            chown(tmp, owner);
            try {
                copy.write(content, new BufferedOutputStream(limited(Channels.newOutputStream(ch), limit, 0), 65536),
                        MessageCopy.Style.MAILDIR);
                ch.force(true);
            } catch (IOException e) {
                return writeFailure(e);
            }
            long dev = ((Number) Files.getAttribute(tmp, "unix:dev", NOFOLLOW_LINKS)).longValue();
            long ino = ((Number) Files.getAttribute(tmp, "unix:ino", NOFOLLOW_LINKS)).longValue();
            newFile = dir.resolve("new").resolve(seconds + ".V" + Long.toHexString(dev) + "I" + Long.toHexString(ino)
                    + "M" + now.getNano() / 1000 + "." + HOSTNAME);
            Files.createLink(newFile, tmp);
            fsyncDirectory(newFile.getParent());
            return Outcome.sent("");
        } catch (IOException e) {
            String why = reason(e);
            Path which = newFile != null ? newFile : tmp;
            return Outcome.failed(dsn(why, defaultDsn), "create maildir file " + which + ": " + why);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // Postfix warns and goes on: the message is in new/ or the delivery failed anyway
            }
        }
    }

    /**
     * The first component of {@code target} at or below {@code base} that is a symbolic link, or null. A root
     * process writing where a user can rename things must not be sent elsewhere by a link.
     */
    static Path symlinkBelow(Path base, Path target) {
        Path rel = base.relativize(target);
        Path p = base;
        if (Files.isSymbolicLink(p)) {
            return p;
        }
        for (Path part : rel) {
            p = p.resolve(part);
            if (Files.isSymbolicLink(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Whether {@code uid}/{@code gid} may append to {@code path} (or create it, when absent) by the mode bits, the
     * check the kernel would make if Postfix had switched to that user. Supplementary groups and ACLs are not
     * consulted (stricter, never looser).
     */
    static boolean writableBy(Path path, Owner who) throws IOException {
        if (who.uid() == 0) {
            return true;
        }
        boolean exists = Files.exists(path);
        Path p = exists ? path : path.toAbsolutePath().getParent();
        if (p == null || !Files.exists(p)) {
            return false;
        }
        int need = exists ? 2 : 3; // w, or w and x on the directory
        int mode = (Integer) Files.getAttribute(p, "unix:mode");
        int shift = (Integer) Files.getAttribute(p, "unix:uid") == who.uid() ? 6
                : (Integer) Files.getAttribute(p, "unix:gid") == who.gid() ? 3 : 0;
        return ((mode >> shift) & need) == need;
    }

    static void chown(Path path, Owner owner) throws IOException {
        if (UnixAccount.currentUid() == 0) {
            Files.setAttribute(path, "unix:uid", owner.uid(), NOFOLLOW_LINKS);
            Files.setAttribute(path, "unix:gid", owner.gid(), NOFOLLOW_LINKS);
        }
    }

    /** Creates the missing directories of {@code dir} 0700, owned by {@code owner}. */
    private static void makeDirs(Path dir, Owner owner) throws IOException {
        if (Files.isDirectory(dir, NOFOLLOW_LINKS)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            makeDirs(parent, owner);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            chown(dir, owner);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir, NOFOLLOW_LINKS)) {
                throw e;
            }
        }
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, READ)) {
            d.force(true);
        }
    }

    /** Creates {@code lock} exclusively, breaking a stale one; null when done, else Postfix's reason. */
    private static String dotlock(Path lock) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LOCK_WAIT_SECONDS);
        while (true) {
            try {
                Files.createFile(lock);
                return null;
            } catch (FileAlreadyExistsException e) {
                try {
                    FileTime changed = (FileTime) Files.getAttribute(lock, "unix:ctime", NOFOLLOW_LINKS);
                    if (System.currentTimeMillis() > changed.toMillis() + STALE_LOCK_SECONDS * 1000) {
                        Files.deleteIfExists(lock);
                        continue;
                    }
                } catch (IOException gone) {
                    continue; // released in between
                }
                if (System.nanoTime() > deadline || !pause()) {
                    return "unable to create lock file " + lock + ": File exists";
                }
            } catch (IOException e) {
                return "unable to create lock file " + lock + ": " + reason(e);
            }
        }
    }

    private static FileLock fcntlLock(FileChannel ch) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LOCK_WAIT_SECONDS);
        do {
            try {
                FileLock l = ch.tryLock();
                if (l != null) {
                    return l; // released when the channel closes
                }
            } catch (OverlappingFileLockException e) {
                // another thread of this JVM holds it: busy, as for another process
            }
        } while (System.nanoTime() < deadline && pause());
        return null;
    }

    private static boolean pause() {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(5, 50));
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static Outcome writeFailure(IOException e) {
        if (e instanceof MessageCopy.ReadException) {
            return Outcome.deferred("4.3.0", "error reading message: " + reason(e));
        }
        String why = reason(e);
        return Outcome.failed(dsn(why, "5.3.0"), "error writing message: " + why); // mail_copy()'s default
    }

    /** Postfix's mbox_dsn(): busy 4.2.0, file system full 4.3.0, quota or size limit 5.2.2, else the default. */
    private static String dsn(String reason, String defaultDsn) {
        if (reason.endsWith("Resource temporarily unavailable") || reason.endsWith("Stale file handle")) {
            return "4.2.0";
        }
        if (reason.endsWith("No space left on device")) {
            return "4.3.0";
        }
        if (reason.endsWith("File too large") || reason.endsWith("Disk quota exceeded")) {
            return "5.2.2";
        }
        return defaultDsn;
    }

    /** strerror()'s words for an I/O exception, as Postfix's %m shows them. */
    static String reason(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "File exists";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** Counts bytes and fails with EFBIG once the file would grow past {@code limit} (0: no limit). */
    private static OutputStream limited(OutputStream out, long limit, long start) {
        if (limit <= 0) {
            return out;
        }
        return new FilterOutputStream(out) {
            private long size = start;

            @Override
            public void write(int b) throws IOException {
                grow(1);
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                grow(len);
                out.write(b, off, len);
            }

            private void grow(long n) throws FileTooLarge {
                if (size + n > limit) {
                    throw new FileTooLarge();
                }
                size += n;
            }
        };
    }

    private static String hostname() {
        String h;
        try {
            h = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            h = "";
        }
        return (h.isEmpty() ? "localhost" : h).replace("/", "\\057").replace(":", "\\072");
    }
}
