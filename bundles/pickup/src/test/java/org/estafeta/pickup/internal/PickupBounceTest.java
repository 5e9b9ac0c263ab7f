package org.estafeta.pickup.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.Reply;
import org.estafeta.bounce.Bouncer;
import org.estafeta.bounce.Notice;
import org.estafeta.pickup.Maildrop;
import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.estafeta.testing.FakeSnapshot;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pickup against a real maildrop/ and FakeCleanup: what becomes of mail that cleanup refuses. */
class PickupBounceTest {
    private static final long ARRIVAL_MICROS = 1_700_000_000_123_456L;
    private static final byte[] CONTENT = "Subject: loop\r\n\r\nround and round\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final Reply TOO_MANY_HOPS = Reply.reject(554, "5.4.0", "Error: too many hops");

    @TempDir
    Path tmp;

    private FileQueueStore store;
    private final FakeCleanup cleanup = new FakeCleanup();
    private final RecordingBouncer bouncer = new RecordingBouncer();
    private Optional<Bouncer> current = Optional.of(bouncer);
    private final FakeSnapshot config = FakeSnapshot.of("myorigin", "example.org", "myhostname", "mx.example.org");
    private Pickup pickup;
    private String file;

    @BeforeEach
    void setUp() throws IOException {
        store = new FileQueueStore(tmp.resolve("q"));
        pickup = new Pickup(store, cleanup, () -> current, config, 60);
        QueueStore.Writer w = store.create(Maildrop.envelope(ARRIVAL_MICROS, "alice", Map.of("RET", "HDRS"),
                List.of(new Maildrop.Recipient("bob@example.net", List.of()),
                        new Maildrop.Recipient("carol", List.of("FAILURE", "DELAY"))),
                1000, "Alice"));
        w.write(CONTENT, 0, CONTENT.length);
        w.commit(QueueName.MAILDROP);
        file = w.id();
        assertEquals(List.of(file), store.list(QueueName.MAILDROP));
    }

    @AfterEach
    void tearDown() {
        pickup.stop();
    }

    @Test
    void aPermanentRejectionIsReturnedToTheSenderAndTheFileRemoved() throws IOException {
        cleanup.reject(TOO_MANY_HOPS);
        pickup.pick(file);

        assertEquals(FakeCleanup.State.REJECTED, cleanup.single().state());
        assertEquals(1, bouncer.notices.size());
        Notice n = bouncer.notices.get(0);
        assertEquals(Notice.Kind.FAILURE, n.kind());
        assertSame(config, n.config());
        assertEquals(file, n.queueId());
        assertEquals(ARRIVAL_MICROS / 1000, n.arrivalMillis());
        assertEquals("alice@example.org", n.sender());
        assertEquals(Map.of("RET", "HDRS"), n.mailParameters());
        assertEquals(List.of(
                new Notice.RecipientStatus("bob@example.net", Optional.empty(), List.of(), "5.4.0",
                        "554 5.4.0 Error: too many hops", Optional.empty(), false),
                new Notice.RecipientStatus("carol@example.org", Optional.empty(), List.of("FAILURE", "DELAY"),
                        "5.4.0", "554 5.4.0 Error: too many hops", Optional.empty(), false)),
                n.recipients());
        assertArrayEquals(CONTENT, bouncer.contents.get(0), "the report returns the maildrop file's message");
        assertEquals(List.of(), store.list(QueueName.MAILDROP));
    }

    @Test
    void noReportDueStillRemovesTheFile() throws IOException {
        cleanup.reject(TOO_MANY_HOPS);
        bouncer.answer = Optional.empty(); // NOTIFY=NEVER
        pickup.pick(file);

        assertEquals(1, bouncer.notices.size());
        assertEquals(List.of(), store.list(QueueName.MAILDROP));
    }

    @Test
    void aFailingBouncerKeepsTheFileForTheNextScan() throws IOException {
        cleanup.reject(TOO_MANY_HOPS);
        bouncer.failure = new IOException("queue file system full");
        pickup.pick(file);

        assertEquals(1, bouncer.notices.size(), "the bouncer was asked");
        assertEquals(List.of(file), store.list(QueueName.MAILDROP));

        bouncer.failure = null;
        pickup.pick(file);
        assertEquals(2, bouncer.notices.size());
        assertEquals(List.of(), store.list(QueueName.MAILDROP));
    }

    @Test
    void aBouncerThrowingAnUncheckedExceptionKeepsTheFile() throws IOException {
        cleanup.reject(TOO_MANY_HOPS);
        bouncer.unchecked = new IllegalStateException("bounce bundle stopping");
        pickup.pick(file);

        assertEquals(1, bouncer.notices.size());
        assertEquals(List.of(file), store.list(QueueName.MAILDROP));
    }

    @Test
    void withoutABouncerTheFileIsKept() throws IOException {
        cleanup.reject(TOO_MANY_HOPS);
        current = Optional.empty();
        pickup.pick(file);

        assertEquals(FakeCleanup.State.REJECTED, cleanup.single().state());
        assertEquals(List.of(file), store.list(QueueName.MAILDROP));

        current = Optional.of(bouncer); // the bounce bundle is back
        pickup.pick(file);
        assertEquals(1, bouncer.notices.size());
        assertEquals(List.of(), store.list(QueueName.MAILDROP));
    }

    @Test
    void aTemporaryRejectionKeepsTheFileAndSendsNothing() throws IOException {
        cleanup.reject(Reply.tempfail(451, "4.3.0", "Error: queue file write error"));
        pickup.pick(file);

        assertEquals(FakeCleanup.State.REJECTED, cleanup.single().state());
        assertEquals(List.of(), bouncer.notices);
        assertEquals(List.of(file), store.list(QueueName.MAILDROP));
    }

    @Test
    void acceptedMailIsRemovedWithoutAReport() throws IOException {
        pickup.pick(file);

        assertEquals(FakeCleanup.State.COMMITTED, cleanup.single().state());
        assertArrayEquals(CONTENT, cleanup.single().content());
        assertEquals(List.of(), bouncer.notices);
        assertEquals(List.of(), store.list(QueueName.MAILDROP));
    }

    /** Records each notice and the content it opens; answers with a queue ID, nothing, or a failure. */
    private static final class RecordingBouncer implements Bouncer {
        final List<Notice> notices = new ArrayList<>();
        final List<byte[]> contents = new ArrayList<>();
        Optional<String> answer = Optional.of("4BOUNCE0001");
        IOException failure;
        RuntimeException unchecked;

        @Override
        public Optional<String> notify(Notice notice) throws IOException {
            notices.add(notice);
            try (InputStream in = notice.content().open()) {
                contents.add(in.readAllBytes());
            }
            if (failure != null) {
                throw failure;
            }
            if (unchecked != null) {
                throw unchecked;
            }
            return answer;
        }
    }
}
