package org.estafeta.queue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The queue operations behind {@code postqueue -p}, {@code postsuper} and {@code postcat -q}, on the files under
 * {@code queue_directory}. The running gateway calls them from its control socket; the {@code estafeta} command
 * calls them directly when the gateway is stopped.
 *
 * <p>Safe against concurrent writers: a file appears in a queue directory only by the atomic rename that commits it
 * ({@code tmp/} is never looked at), every move here is one atomic {@code rename(2)} followed by an fsync of the
 * target directory, and a file that vanishes between listing and use (moved or removed by someone else) is skipped,
 * as Postfix's postsuper and showq do when they lose such a race.
 */
public final class QueueAdmin {
    /** The queues showq lists, in its order. */
    public static final List<QueueName> SHOWQ_QUEUES =
            List.of(QueueName.MAILDROP, QueueName.ACTIVE, QueueName.INCOMING, QueueName.DEFERRED, QueueName.HOLD);
    /** The queues postsuper works on when none is named (Postfix's message queues, in its order). */
    public static final List<QueueName> DEFAULT_QUEUES =
            List.of(QueueName.MAILDROP, QueueName.INCOMING, QueueName.ACTIVE, QueueName.DEFERRED, QueueName.HOLD);
    /** The queues postcat -q searches, in Postfix's order ({@code saved} is Estafeta's {@code corrupt}). */
    public static final List<QueueName> POSTCAT_QUEUES = List.of(QueueName.MAILDROP, QueueName.INCOMING,
            QueueName.ACTIVE, QueueName.DEFERRED, QueueName.HOLD, QueueName.CORRUPT);

    private final Path directory;

    /** Operations on the queue under {@code queueDirectory} (which must exist). */
    public QueueAdmin(Path queueDirectory) {
        this.directory = queueDirectory.toAbsolutePath();
    }

    public Path directory() {
        return directory;
    }

    /** One recipient as showq reports it, with the reason its delivery was deferred (empty: none known). */
    public record Recipient(String address, String reason) {
    }

    /** One queued message as showq reports it. */
    public record Entry(QueueName queue, String id, long arrivalMicros, long size, String sender,
            List<Recipient> recipients) {
        public Entry {
            recipients = List.copyOf(recipients);
        }
    }

    /** What a scan found: the messages, and warnings about files that could not be read. */
    public record Scan(List<Entry> entries, List<String> warnings) {
    }

    /**
     * Every committed message in {@link #SHOWQ_QUEUES}, in queue order, then by ID (arrival order). Recipients that
     * are done are left out, as showq leaves out Postfix's done recipients. Deferred recipients carry the reason the queue
     * manager recorded for them ({@link QueueStore#recordDeferrals}).
     */
    public Scan scan() throws IOException {
        List<Entry> entries = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (QueueName q : SHOWQ_QUEUES) {
            for (String id : ids(q)) {
                QueueStore.QueuedMessage m;
                try {
                    m = FileQueueStore.open(file(q, id), id);
                } catch (NoSuchFileException e) {
                    continue; // moved or removed since the directory was read
                } catch (IOException | RuntimeException e) {
                    warnings.add(q.directory() + "/" + id + ": " + e.getMessage());
                    continue;
                }
                Envelope env = m.envelope();
                List<Recipient> rcpts = new ArrayList<>();
                java.util.Map<String, String> reasons = q == QueueName.DEFERRED
                        ? FileQueueStore.readDeferrals(directory, id) : java.util.Map.of();
                for (Envelope.Recipient r : env.recipients()) {
                    if (r.status() == Envelope.Status.PENDING) {
                        rcpts.add(new Recipient(r.address(), reasons.getOrDefault(r.address(), "")));
                    }
                }
                entries.add(new Entry(q, id, env.arrivalMicros(), m.contentLength(), env.sender(), rcpts));
            }
        }
        return new Scan(entries, warnings);
    }

    /** The IDs of the committed files in {@code queue}, sorted (stray names are ignored). */
    public List<String> ids(QueueName queue) throws IOException {
        List<String> ids = new ArrayList<>();
        Path dir = directory.resolve(queue.directory());
        if (!Files.isDirectory(dir)) {
            return ids;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
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

    /** Where a message is: the first of {@code queues} holding {@code id}. */
    public Optional<QueueName> locate(String id, List<QueueName> queues) {
        if (!QueueId.isValid(id)) {
            return Optional.empty();
        }
        for (QueueName q : queues) {
            if (Files.isRegularFile(file(q, id))) {
                return Optional.of(q);
            }
        }
        return Optional.empty();
    }

    /** Opens a committed message for reading (postcat). */
    public QueueStore.QueuedMessage read(QueueName queue, String id) throws IOException {
        return FileQueueStore.open(file(queue, id), id);
    }

    /** Removes {@code id} from {@code queue}; false when it was not there (lost a race, or never was). */
    public boolean delete(QueueName queue, String id) throws IOException {
        return delete(queue, id, true);
    }

    /** {@link #delete}, with the directory fsync optional (the queue manager's path: see FileQueueStore#delete). */
    boolean delete(QueueName queue, String id, boolean durable) throws IOException {
        if (!QueueId.isValid(id)) {
            return false;
        }
        Path f = file(queue, id);
        try {
            Files.delete(f);
        } catch (NoSuchFileException e) {
            return false;
        }
        if (durable) {
            FileQueueStore.fsyncDirectory(f.getParent());
        }
        return true;
    }

    /**
     * Moves {@code id} from {@code from} to {@code to} by one atomic rename, then fsyncs the target directory; false
     * when it was not in {@code from}. Refuses to replace a file of the same name in {@code to}.
     */
    public boolean move(QueueName from, String id, QueueName to) throws IOException {
        return move(from, id, to, true);
    }

    /** {@link #move}, with the directory fsync optional (the queue manager's path: see FileQueueStore#move). */
    boolean move(QueueName from, String id, QueueName to, boolean durable) throws IOException {
        if (!QueueId.isValid(id)) {
            return false;
        }
        Path src = file(from, id);
        Path dst = file(to, id);
        if (from == to) {
            return Files.isRegularFile(src);
        }
        if (!Files.isRegularFile(src)) {
            return false;
        }
        if (Files.exists(dst)) {
            throw new FileAlreadyExistsException(dst.toString(), null,
                    id + ": cannot move it from " + from.directory() + " to " + to.directory() + ": file exists");
        }
        try {
            Files.move(src, dst, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return false;
        }
        if (durable) {
            FileQueueStore.fsyncDirectory(dst.getParent());
        }
        return true;
    }

    private Path file(QueueName q, String id) {
        return directory.resolve(q.directory()).resolve(id);
    }
}
