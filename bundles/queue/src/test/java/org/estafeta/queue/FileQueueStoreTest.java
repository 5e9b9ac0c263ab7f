package org.estafeta.queue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileQueueStoreTest {
    @TempDir
    Path dir;

    static Envelope envelope() {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("SIZE", "123");
        params.put("ENVID", "a b=c+d");
        params.put("SMTPUTF8", "");
        return new Envelope(1_764_000_000_123_456L, "s\u00e9nder@example.org", params,
                List.of(new Envelope.Recipient("a@example.net", List.of("SUCCESS", "FAILURE"),
                                Optional.of("rfc822;a@example.net"), Envelope.Status.PENDING),
                        new Envelope.Recipient("b@example.net", List.of(), Optional.empty(), Envelope.Status.DONE)),
                new Envelope.Client("192.0.2.1", "mail.example.org", "helo name", "ESMTP"),
                List.of(new Envelope.Action("hold", "too suspicious"), new Envelope.Action("prepend", "X-A: 1")));
    }

    @Test
    void roundTripKeepsEnvelopeAndContent() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueStore.Writer w = store.create(envelope());
        byte[] content = "Subject: x\r\n\r\nbody\r\nEND 0\r\n".getBytes(StandardCharsets.US_ASCII);
        w.write(content, 0, content.length);
        w.commit(QueueName.INCOMING);
        assertEquals(List.of(w.id()), store.list(QueueName.INCOMING));
        QueueStore.QueuedMessage m = store.read(QueueName.INCOMING, w.id());
        assertEquals(envelope(), m.envelope());
        assertEquals(content.length, m.contentLength());
        try (InputStream in = m.content()) {
            assertArrayEquals(content, in.readAllBytes());
        }
    }

    @Test
    void nothingAppearsInAnyQueueBeforeCommitAndAbortLeavesNothing() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueStore.Writer w = store.create(envelope());
        w.write(new byte[100_000], 0, 100_000);
        for (QueueName q : QueueName.values()) {
            assertTrue(store.list(q).isEmpty(), q.toString());
            try (var s = Files.list(dir.resolve(q.directory()))) {
                assertEquals(0, s.count(), q.toString());
            }
        }
        w.abort();
        try (var s = Files.walk(dir)) {
            assertTrue(s.allMatch(Files::isDirectory), "abort leaves no file");
        }
    }

    @Test
    void idsAreUniqueAndSortableUnderConcurrency() throws Exception {
        FileQueueStore store = new FileQueueStore(dir);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<String>> futures = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            futures.add(pool.submit(() -> {
                QueueStore.Writer w = store.create(envelope());
                w.commit(QueueName.INCOMING);
                return w.id();
            }));
        }
        Set<String> ids = new HashSet<>();
        for (Future<String> f : futures) {
            String id = f.get();
            assertTrue(QueueId.isValid(id), id);
            assertTrue(ids.add(id), "duplicate " + id);
        }
        pool.shutdown();
        assertEquals(400, store.list(QueueName.INCOMING).size());
        // sorting the IDs as strings sorts them by time
        List<String> a = List.of(QueueId.of(1_000_000_000_000_000L, 5), QueueId.of(1_000_000_000_000_001L, 1),
                QueueId.of(1_000_000_001_000_000L, 0), QueueId.of(2_000_000_000_999_999L, 99));
        List<String> sorted = new ArrayList<>(a);
        Collections.shuffle(sorted);
        Collections.sort(sorted);
        assertEquals(a, sorted);
    }

    @Test
    void recoveryRemovesUncommittedSavesCorruptAndRequeuesActive() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        // a commit that never happened: left in tmp/
        QueueStore.Writer unfinished = store.create(envelope());
        unfinished.write(new byte[] {'x'}, 0, 1);
        // a committed file, then moved to active (as if qmgr was delivering it at the crash)
        QueueStore.Writer w = store.create(envelope());
        w.commit(QueueName.INCOMING);
        Files.move(dir.resolve("incoming").resolve(w.id()), dir.resolve("active").resolve(w.id()));
        // a file in a queue without its commit marker (truncated)
        QueueStore.Writer t = store.create(envelope());
        t.write("hello\r\n".getBytes(StandardCharsets.US_ASCII), 0, 7);
        t.commit(QueueName.DEFERRED);
        Path truncated = dir.resolve("deferred").resolve(t.id());
        byte[] all = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(all, all.length - 5));
        // a file with a commit marker but a garbled envelope
        QueueStore.Writer c = store.create(envelope());
        c.commit(QueueName.INCOMING);
        Path garbled = dir.resolve("incoming").resolve(c.id());
        byte[] g = Files.readAllBytes(garbled);
        g[3] = 'X';
        Files.write(garbled, g);

        FileQueueStore.Recovery r = new FileQueueStore(dir).recover();
        assertEquals(List.of(t.id()), r.removed().stream().filter(QueueId::isValid).toList());
        assertEquals(2, r.removed().size(), r.toString()); // the tmp file and the truncated one
        assertEquals(List.of(c.id()), r.corrupted());
        assertEquals(List.of(w.id()), r.requeued());
        assertEquals(List.of(w.id()), store.list(QueueName.INCOMING));
        assertEquals(List.of(c.id()), store.list(QueueName.CORRUPT));
        assertTrue(store.list(QueueName.ACTIVE).isEmpty());
        assertTrue(store.list(QueueName.DEFERRED).isEmpty());
        try (var s = Files.list(dir.resolve(FileQueueStore.WORK_DIRECTORY))) {
            assertEquals(0, s.count());
        }
        assertEquals(envelope(), store.read(QueueName.INCOMING, w.id()).envelope());
    }

    @Test
    void contentDamageIsDetectedOnRead() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueStore.Writer w = store.create(envelope());
        byte[] content = "Subject: x\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        w.write(content, 0, content.length);
        w.commit(QueueName.INCOMING);
        Path p = dir.resolve("incoming").resolve(w.id());
        byte[] b = Files.readAllBytes(p);
        int at = b.length - QueueFileFormat.TRAILER_LENGTH - 3;
        b[at] = (byte) (b[at] ^ 1);
        Files.write(p, b);
        try (InputStream in = store.read(QueueName.INCOMING, w.id()).content()) {
            assertThrows(IOException.class, in::readAllBytes);
        }
    }

    static final Envelope.Extracted EXTRACTED = new Envelope.Extracted(
            List.of(new Envelope.Action("filter", "smtp:[127.0.0.1]:10025"),
                    new Envelope.Action("redirect", "boss@example.com")),
            List.of(new Envelope.Recipient("audit@example.com", List.of("NEVER"), Optional.empty(),
                    Envelope.Status.PENDING)));

    @Test
    void extractedRecordsFollowTheContentInVersion2() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueStore.Writer w = store.create(envelope());
        byte[] content = "Subject: x\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        w.write(content, 0, content.length);
        w.commit(QueueName.INCOMING, EXTRACTED);
        Path p = dir.resolve("incoming").resolve(w.id());
        String file = Files.readString(p, StandardCharsets.ISO_8859_1);
        assertTrue(file.startsWith(QueueFileFormat.MAGIC_V2 + "\n"), file);
        assertTrue(file.contains("content\n" + new String(content, StandardCharsets.US_ASCII)
                + "extracted\naction filter smtp:[127.0.0.1]:10025\naction redirect boss@example.com\n"
                + "rcpt - audit@example.com NEVER \nEND 00000000000000000020 "), file);

        QueueStore.QueuedMessage m = store.read(QueueName.INCOMING, w.id());
        assertEquals(EXTRACTED, m.extracted());
        assertEquals(envelope().withExtracted(EXTRACTED), m.envelope());
        assertEquals(envelope(), m.envelope().withoutExtracted(EXTRACTED));
        assertEquals(3, m.envelope().recipients().size());
        assertEquals("redirect", m.envelope().actions().get(m.envelope().actions().size() - 1).name());
        try (InputStream in = m.content()) {
            assertArrayEquals(content, in.readAllBytes());
        }
        // recipient 2 is the extracted one: its status byte, after the content, is changed in place
        store.markDone(QueueName.INCOMING, w.id(), List.of(0, 2));
        Envelope after = store.read(QueueName.INCOMING, w.id()).envelope();
        assertEquals(Envelope.Status.DONE, after.recipients().get(0).status());
        assertEquals(Envelope.Status.DONE, after.recipients().get(2).status());
        try (InputStream in = store.read(QueueName.INCOMING, w.id()).content()) {
            assertArrayEquals(content, in.readAllBytes(), "the content and its checksum are untouched");
        }
        assertEquals(new FileQueueStore.Recovery(List.of(), List.of(), List.of()), store.recover());
    }

    @Test
    void withoutExtractedRecordsTheFileStaysVersion1() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueStore.Writer w = store.create(envelope());
        w.write(new byte[] {'x'}, 0, 1);
        w.commit(QueueName.INCOMING, Envelope.Extracted.NONE);
        QueueStore.QueuedMessage m = store.read(QueueName.INCOMING, w.id());
        assertTrue(Files.readString(dir.resolve("incoming").resolve(w.id()), StandardCharsets.ISO_8859_1)
                .startsWith(QueueFileFormat.MAGIC + "\n"));
        assertEquals(Envelope.Extracted.NONE, m.extracted());
        assertEquals(envelope(), m.envelope());
    }

    @Test
    void aDamagedExtractedSegmentIsCorruptAndAVersion1FileWithExtraBytesToo() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueStore.Writer w = store.create(envelope());
        w.write(new byte[] {'x'}, 0, 1);
        w.commit(QueueName.INCOMING, EXTRACTED);
        Path p = dir.resolve("incoming").resolve(w.id());
        String s = Files.readString(p, StandardCharsets.ISO_8859_1);
        Files.writeString(p, s.replace("extracted\naction", "extracted\nbogus!"), StandardCharsets.ISO_8859_1);
        assertThrows(IOException.class, () -> store.read(QueueName.INCOMING, w.id()));

        QueueStore.Writer v1 = store.create(envelope());
        v1.write(new byte[] {'x'}, 0, 1);
        v1.commit(QueueName.INCOMING);
        Path p1 = dir.resolve("incoming").resolve(v1.id());
        String s1 = Files.readString(p1, StandardCharsets.ISO_8859_1);
        Files.writeString(p1, s1.replace("content\nx", "content\nxextracted\n"), StandardCharsets.ISO_8859_1);
        assertThrows(IOException.class, () -> store.read(QueueName.INCOMING, v1.id()));

        FileQueueStore.Recovery r = store.recover();
        assertEquals(List.of(w.id(), v1.id()).stream().sorted().toList(), r.corrupted());
    }

    private static Envelope.Recipient pending(String address, Optional<String> orcpt) {
        return new Envelope.Recipient(address, List.of(), orcpt, Envelope.Status.PENDING);
    }

    private static List<Envelope.Status> statuses(Envelope e) {
        return e.recipients().stream().map(Envelope.Recipient::status).toList();
    }

    @Test
    void filterSenderChangeAndRemovedRecipientsAreTheEnvelopeEveryReaderSees() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        Envelope env = new Envelope(1_764_000_000_000_000L, "orig@example.org", Map.of(),
                List.of(pending("keep@example.net", Optional.of("rfc822;keep@example.net")),
                        pending("gone@example.net", Optional.empty()),
                        pending("alias-target@example.net", Optional.of("rfc822;Old+2Bname@example.org")),
                        new Envelope.Recipient("done@example.net", List.of(), Optional.empty(), Envelope.Status.DONE)),
                new Envelope.Client("192.0.2.1", "mail.example.org", "helo", "ESMTP"), List.of());
        Envelope.Extracted x = new Envelope.Extracted(
                List.of(new Envelope.Action(Envelope.Extracted.SENDER, "first@example.org"),
                        new Envelope.Action(Envelope.Extracted.REMOVE, "GONE@Example.NET"),
                        new Envelope.Action(Envelope.Extracted.REMOVE, "old+name@example.org"),
                        new Envelope.Action(Envelope.Extracted.SENDER, "new sender@example.org"),
                        new Envelope.Action(Envelope.Extracted.REMOVE, "bcc2@example.com")),
                List.of(pending("bcc1@example.com", Optional.empty()), pending("bcc2@example.com", Optional.empty())));
        QueueStore.Writer w = store.create(env);
        byte[] content = "Subject: x\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        w.write(content, 0, content.length);
        w.commit(QueueName.INCOMING, x);
        Path p = dir.resolve("incoming").resolve(w.id());
        String file = Files.readString(p, StandardCharsets.ISO_8859_1);
        assertTrue(file.startsWith(QueueFileFormat.MAGIC_V2 + "\n"), file);
        assertTrue(file.contains("\nextracted\naction sender first@example.org\naction remove GONE@Example.NET\n"
                + "action remove old+2Bname@example.org\naction sender new+20sender@example.org\n"
                + "action remove bcc2@example.com\nrcpt - bcc1@example.com  \nrcpt - bcc2@example.com  \nEND "), file);

        QueueStore.QueuedMessage m = store.read(QueueName.INCOMING, w.id());
        assertEquals(x, m.extracted());
        Envelope e = m.envelope();
        assertEquals("new sender@example.org", e.sender(), "the last sender action wins");
        assertEquals(List.of("keep@example.net", "gone@example.net", "alias-target@example.net", "done@example.net",
                "bcc1@example.com", "bcc2@example.com"), e.recipients().stream().map(Envelope.Recipient::address)
                        .toList(), "removed recipients keep their place: markDone numbers the rcpt lines");
        assertEquals(List.of(Envelope.Status.PENDING, Envelope.Status.DONE, Envelope.Status.DONE, Envelope.Status.DONE,
                Envelope.Status.PENDING, Envelope.Status.DONE), statuses(e),
                "removed by address (any case), by ORCPT address, and an extracted (BCC) recipient");
        assertEquals(env.effective(x), e);
        assertEquals(file, Files.readString(p, StandardCharsets.ISO_8859_1), "reading changes nothing in the file");

        // another recipient done: its own status byte, nothing else; the removed ones are never written
        store.markDone(QueueName.INCOMING, w.id(), List.of(4));
        Envelope after = store.read(QueueName.INCOMING, w.id()).envelope();
        assertEquals(List.of(Envelope.Status.PENDING, Envelope.Status.DONE, Envelope.Status.DONE, Envelope.Status.DONE,
                Envelope.Status.DONE, Envelope.Status.DONE), statuses(after));
        String marked = Files.readString(p, StandardCharsets.ISO_8859_1);
        assertTrue(marked.contains("\nrcpt D bcc1@example.com  \nrcpt - bcc2@example.com  \nEND "), marked);
        assertTrue(marked.contains("\nrcpt - gone@example.net  \n"), marked);
        assertEquals("new sender@example.org", after.sender());
        store.markDone(QueueName.INCOMING, w.id(), List.of(0));
        assertTrue(store.read(QueueName.INCOMING, w.id()).envelope().recipients().stream()
                .noneMatch(r -> r.status() == Envelope.Status.PENDING), "nothing left to deliver");
        try (InputStream in = store.read(QueueName.INCOMING, w.id()).content()) {
            assertArrayEquals(content, in.readAllBytes(), "the content and its checksum are untouched");
        }
        assertEquals(new FileQueueStore.Recovery(List.of(), List.of(), List.of()), store.recover());

        // postqueue -p: the effective sender, only the recipients still to deliver
        QueueAdmin.Entry entry = new QueueAdmin(dir).scan().entries().get(0);
        assertEquals("new sender@example.org", entry.sender());
        assertEquals(List.of(), entry.recipients());
    }

    @Test
    void aFileWhoseRecipientsAreAllRemovedHasNoPendingRecipientAndANullSenderChange() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        Envelope env = new Envelope(1_764_000_000_000_000L, "orig@example.org", Map.of(),
                List.of(pending("a@example.net", Optional.empty()),
                        pending("b@example.net", Optional.of("rfc822;b@example.net"))),
                new Envelope.Client("", "", "", "SMTP"), List.of());
        QueueStore.Writer w = store.create(env);
        w.write(new byte[] {'x'}, 0, 1);
        w.commit(QueueName.INCOMING, new Envelope.Extracted(List.of(
                new Envelope.Action(Envelope.Extracted.SENDER, ""),
                new Envelope.Action(Envelope.Extracted.REMOVE, "a@example.net"),
                new Envelope.Action(Envelope.Extracted.REMOVE, "B@EXAMPLE.NET")), List.of()));
        Envelope e = store.read(QueueName.INCOMING, w.id()).envelope();
        assertEquals("", e.sender(), "an empty sender action is the null sender");
        assertEquals(List.of(Envelope.Status.DONE, Envelope.Status.DONE), statuses(e));
        assertTrue(Files.readString(dir.resolve("incoming").resolve(w.id()), StandardCharsets.ISO_8859_1)
                .contains("\ncontent\nxextracted\naction sender \naction remove a@example.net\n"
                        + "action remove B@EXAMPLE.NET\nEND "));
        QueueAdmin.Entry entry = new QueueAdmin(dir).scan().entries().get(0);
        assertEquals("", entry.sender());
        assertEquals(List.of(), entry.recipients());
    }

    @Test
    void removeMatchesTheAddressOrTheOrcptAddressOnly() {
        Envelope.Extracted x = new Envelope.Extracted(
                List.of(new Envelope.Action(Envelope.Extracted.REMOVE, "u+x@example.org")), List.of());
        assertTrue(x.removes(pending("U+X@example.org", Optional.empty())));
        assertTrue(x.removes(pending("other@example.net", Optional.of("RFC822;u+2Bx@example.org"))), "xtext decoded");
        assertTrue(x.removes(pending("other@example.net", Optional.of("rfc822;u+x@example.org"))),
                "not valid xtext: taken as is");
        assertFalse(x.removes(pending("other@example.net", Optional.of("rfc822;v@example.org"))));
        assertFalse(x.removes(pending("u@example.org", Optional.empty())));
        assertFalse(x.removes(pending("other@example.net", Optional.of("u+x@example.org"))), "no address type");
        assertEquals(Optional.empty(), x.sender());
        assertFalse(Envelope.Extracted.NONE.removes(pending("u+x@example.org", Optional.empty())));
    }
}
