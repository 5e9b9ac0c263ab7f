package org.estafeta.queue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operations the queue manager uses: move, delete, markDone, retry times, deferral reasons, commit events. */
class QueueManagerOperationsTest {
    @TempDir
    Path dir;

    private static final byte[] CONTENT = "Subject: x\r\n\r\nrcpt - tricky body line\r\n".getBytes(StandardCharsets.US_ASCII);

    private static Envelope envelope(int recipients) {
        List<Envelope.Recipient> r = new ArrayList<>();
        for (int i = 0; i < recipients; i++) {
            r.add(new Envelope.Recipient("r" + i + "@example.net", List.of(), Optional.empty(), Envelope.Status.PENDING));
        }
        return new Envelope(1_764_000_000_000_000L, "s@example.org", Map.of(), r,
                new Envelope.Client("192.0.2.1", "h", "helo", "ESMTP"), List.of());
    }

    private String queue(FileQueueStore store, Envelope e) throws IOException {
        QueueStore.Writer w = store.create(e);
        w.write(CONTENT, 0, CONTENT.length);
        w.commit(QueueName.INCOMING);
        return w.id();
    }

    @Test
    void markDoneChangesOnlyTheNamedRecipientsAndKeepsTheFileValid() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        String id = queue(store, envelope(12));
        store.markDone(QueueName.INCOMING, id, Set.of(0, 5, 11));
        QueueStore.QueuedMessage m = store.read(QueueName.INCOMING, id);
        List<Envelope.Status> st = m.envelope().recipients().stream().map(Envelope.Recipient::status).toList();
        for (int i = 0; i < 12; i++) {
            assertEquals(i == 0 || i == 5 || i == 11 ? Envelope.Status.DONE : Envelope.Status.PENDING, st.get(i), "recipient " + i);
        }
        try (InputStream in = m.content()) {
            assertArrayEquals(CONTENT, in.readAllBytes(), "content and its checksum untouched");
        }
        store.markDone(QueueName.INCOMING, id, Set.of(12)); // no such recipient: nothing changes
        assertEquals(3, store.read(QueueName.INCOMING, id).envelope().recipients().stream()
                .filter(r -> r.status() == Envelope.Status.DONE).count());
    }

    @Test
    void moveDeleteAndRetryTime() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        String id = queue(store, envelope(1));
        assertTrue(store.move(QueueName.INCOMING, id, QueueName.ACTIVE));
        assertFalse(store.move(QueueName.INCOMING, id, QueueName.ACTIVE), "no longer in incoming");
        assertTrue(store.move(QueueName.ACTIVE, id, QueueName.DEFERRED));
        Instant later = Instant.parse("2030-01-01T00:00:00Z");
        store.setNextAttempt(QueueName.DEFERRED, id, later);
        assertEquals(later, store.nextAttempt(QueueName.DEFERRED, id));
        Map<String, String> why = new LinkedHashMap<>();
        why.put("r0@example.net", "connect to mx[192.0.2.9]:25: Connection refused");
        store.recordDeferrals(id, why);
        assertEquals(why, store.deferrals(id));
        QueueAdmin.Scan scan = new QueueAdmin(dir).scan();
        assertEquals("connect to mx[192.0.2.9]:25: Connection refused", scan.entries().get(0).recipients().get(0).reason());
        assertTrue(store.delete(QueueName.DEFERRED, id));
        assertFalse(Files.exists(dir.resolve("defer").resolve(id)), "deferral record removed with the message");
        assertFalse(store.delete(QueueName.DEFERRED, id));
    }

    @Test
    void commitListenersHearDurableCommitsOnly() throws Exception {
        FileQueueStore store = new FileQueueStore(dir);
        List<String> heard = new ArrayList<>();
        AutoCloseable handle = store.onCommit((q, id) -> heard.add(q.directory() + "/" + id));
        QueueStore.Writer aborted = store.create(envelope(1));
        aborted.abort();
        String id = queue(store, envelope(1));
        assertEquals(List.of("incoming/" + id), heard);
        assertTrue(Files.exists(dir.resolve("incoming").resolve(id)), "listener ran after the file was in place");
        handle.close();
        queue(store, envelope(1));
        assertEquals(1, heard.size());
    }
}
