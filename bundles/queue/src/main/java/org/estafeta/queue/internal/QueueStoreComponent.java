package org.estafeta.queue.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.estafeta.config.ConfigSource;
import org.estafeta.queue.Envelope;
import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link QueueStore} service on {@code queue_directory}: creates the queue directories and runs start-up
 * recovery before it is registered. A changed {@code queue_directory} takes effect at the next start, as in Postfix.
 */
@Component(service = QueueStore.class, immediate = true)
public final class QueueStoreComponent implements QueueStore {
    private static final Logger log = LoggerFactory.getLogger("qmgr");

    @Reference
    private ConfigSource config;
    private FileQueueStore store;

    @Activate
    void activate() throws IOException {
        Path dir = Path.of(config.current().value("queue_directory"));
        FileQueueStore s = new FileQueueStore(dir);
        FileQueueStore.Recovery r = s.recover();
        if (!r.removed().isEmpty() || !r.corrupted().isEmpty() || !r.requeued().isEmpty()) {
            log.info("queue {} recovered: {} unfinished removed, {} corrupt, {} requeued from active", dir,
                    r.removed().size(), r.corrupted().size(), r.requeued().size());
        }
        store = s;
    }

    @Override
    public Path directory() {
        return store.directory();
    }

    @Override
    public Writer create(Envelope envelope) throws IOException {
        return store.create(envelope);
    }

    @Override
    public List<String> list(QueueName queue) throws IOException {
        return store.list(queue);
    }

    @Override
    public QueuedMessage read(QueueName queue, String id) throws IOException {
        return store.read(queue, id);
    }

    @Override
    public boolean move(QueueName from, String id, QueueName to) throws IOException {
        return store.move(from, id, to);
    }

    @Override
    public boolean delete(QueueName queue, String id) throws IOException {
        return store.delete(queue, id);
    }

    @Override
    public void markDone(QueueName queue, String id, java.util.Collection<Integer> indexes) throws IOException {
        store.markDone(queue, id, indexes);
    }

    @Override
    public java.time.Instant nextAttempt(QueueName queue, String id) throws IOException {
        return store.nextAttempt(queue, id);
    }

    @Override
    public void setNextAttempt(QueueName queue, String id, java.time.Instant when) throws IOException {
        store.setNextAttempt(queue, id, when);
    }

    @Override
    public void recordDeferrals(String id, java.util.Map<String, String> reasonByRecipient) throws IOException {
        store.recordDeferrals(id, reasonByRecipient);
    }

    @Override
    public java.util.Map<String, String> deferrals(String id) throws IOException {
        return store.deferrals(id);
    }

    @Override
    public AutoCloseable onCommit(java.util.function.BiConsumer<QueueName, String> listener) {
        return store.onCommit(listener);
    }
}
