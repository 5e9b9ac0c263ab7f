package org.estafeta.cleanup.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.InsufficientStorageException;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigLoader;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.QueueName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CleanupServiceTest {
    @TempDir
    Path tmp;

    private CleanupService cleanup(FileQueueStore store, String mainCf) throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("etc"));
        Files.writeString(conf.resolve("main.cf"), "myhostname = mx.example.com\n" + mainCf);
        ConfigSnapshot snap = ConfigLoader.load(conf, tmp.resolve("var"));
        ConfigSource source = CleanupFixture.fixed(snap);
        return new CleanupService(store, source);
    }

    private static Submission submission(String... rcpts) {
        return new Submission("a@example.org", Map.of("BODY", "8BITMIME"),
                java.util.Arrays.stream(rcpts).map(r -> new Submission.Recipient(r, List.of(), Optional.empty())).toList(),
                new ClientInfo("192.0.2.7", "client.example.org", "helo.example.org", false, Optional.empty()), "ESMTP",
                Submission.Actions.NONE);
    }

    private static String content(FileQueueStore store, String id) throws IOException {
        try (InputStream in = store.read(QueueName.INCOMING, id).content()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void receivedIsAddedAndMissingHeadersOnlyWhenConfigured() throws Exception {
        FileQueueStore store = new FileQueueStore(tmp.resolve("q"));
        Cleanup plain = cleanup(store, "");
        Cleanup.Stream s = plain.open(submission("b@example.net"));
        byte[] msg = "Subject: hi\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        s.write(msg, 0, msg.length);
        String id = s.commit();
        String text = content(store, id);
        assertTrue(text.matches("(?s)Received: from helo\\.example\\.org \\(client\\.example\\.org \\[192\\.0\\.2\\.7\\]\\)\r\n"
                + "\tby mx\\.example\\.com \\(Estafeta\\) with ESMTP id " + id + "\r\n"
                + "\tfor <b@example\\.net>; [A-Z][a-z]{2}, [ 1-3][0-9] [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4} \\(.+\\)\r\n"
                + "Subject: hi\r\n\r\nbody\r\n"), text);

        Cleanup adding = cleanup(store, "always_add_missing_headers = yes\n");
        s = adding.open(submission("b@example.net", "c@example.net"));
        s.write(msg, 0, 5);
        s.write(msg, 5, msg.length - 5);
        id = s.commit();
        text = content(store, id);
        assertTrue(text.contains("with ESMTP id " + id + ";\r\n\t"), text);
        assertTrue(text.contains("Subject: hi\r\nMessage-Id: <" + id + "@mx.example.com>\r\nDate: "), text);
        assertTrue(text.endsWith("\r\n\r\nbody\r\n"), text);

        s = adding.open(submission("b@example.net"));
        byte[] dated = "Message-ID: <x@y>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nb\r\n".getBytes(StandardCharsets.US_ASCII);
        s.write(dated, 0, dated.length);
        id = s.commit();
        text = content(store, id);
        assertEquals(1, text.split("Message-I", -1).length - 1, text);
        assertEquals(1, text.split("\r\nDate: ", -1).length - 1, text);
    }

    @Test
    void fiftyMegabytesStreamWithASmallHeap() throws Exception {
        FileQueueStore store = new FileQueueStore(tmp.resolve("q"));
        Cleanup.Stream s = cleanup(store, "").open(submission("b@example.net"));
        byte[] head = "Subject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        s.write(head, 0, head.length);
        byte[] line = "0123456789012345678901234567890123456789012345678901234567890123456789012345678\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        byte[] chunk = new byte[line.length * 100];
        for (int i = 0; i < 100; i++) {
            System.arraycopy(line, 0, chunk, i * line.length, line.length);
        }
        long total = 50L * 1024 * 1024;
        long written = 0;
        while (written < total) {
            s.write(chunk, 0, chunk.length);
            written += chunk.length;
        }
        String id = s.commit();
        var m = store.read(QueueName.INCOMING, id);
        assertTrue(m.contentLength() > written + head.length, "content " + m.contentLength());
        try (InputStream in = m.content()) {
            byte[] buf = new byte[65536];
            long n = 0;
            int r;
            while ((r = in.read(buf)) > 0) {
                n += r; // the stream checks the CRC at its end
            }
            assertEquals(m.contentLength(), n);
        }
        assertTrue(Runtime.getRuntime().maxMemory() < total, "the heap bound must be below the message size");
    }

    @Test
    void accessDiscardIsAcknowledgedButNeverQueued() throws Exception {
        FileQueueStore store = new FileQueueStore(tmp.resolve("q"));
        Submission s = new Submission("a@example.org", Map.of(), List.of(new Submission.Recipient("b@example.net",
                List.of(), Optional.empty())), new ClientInfo("192.0.2.7", "c", "h", false, Optional.empty()), "ESMTP",
                new Submission.Actions(Optional.empty(), Optional.of("spam trap"), Optional.empty(), Optional.empty(),
                        List.of()));
        Cleanup.Stream st = cleanup(store, "").open(s);
        byte[] msg = "Subject: hi\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
        st.write(msg, 0, msg.length);
        String id = st.commit();
        assertTrue(!id.isEmpty());
        assertEquals(List.of(), store.list(QueueName.INCOMING));
        try (var tmpFiles = Files.list(tmp.resolve("q").resolve("tmp"))) {
            assertEquals(0, tmpFiles.count(), "nothing half-written left behind");
        }
    }

    @Test
    void abortLeavesNothing() throws Exception {
        FileQueueStore store = new FileQueueStore(tmp.resolve("q"));
        Cleanup.Stream s = cleanup(store, "").open(submission("b@example.net"));
        s.write(new byte[10_000], 0, 10_000);
        s.abort();
        try (var files = Files.walk(store.directory())) {
            assertTrue(files.allMatch(Files::isDirectory));
        }
    }

    @Test
    void unwritableQueueDirectoryIsInsufficientStorageAndLeavesNothing() throws Exception {
        FileQueueStore store = new FileQueueStore(tmp.resolve("q"));
        Cleanup c = cleanup(store, "");
        Path work = store.directory().resolve(FileQueueStore.WORK_DIRECTORY);
        // root ignores permissions: the immutable attribute makes the directory unwritable for everyone
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            assertEquals(0, new ProcessBuilder("chattr", "+i", work.toString()).inheritIO().start().waitFor());
        } else {
            Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("r-x------"));
        }
        try {
            assertThrows(InsufficientStorageException.class, () -> c.open(submission("b@example.net")));
        } finally {
            if (root) {
                new ProcessBuilder("chattr", "-i", work.toString()).inheritIO().start().waitFor();
            } else {
                Files.setPosixFilePermissions(work, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            }
        }
        try (var files = Files.walk(store.directory())) {
            assertTrue(files.allMatch(Files::isDirectory));
        }
    }

    private static String received(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append("Received: from hop").append(i).append(".example by next.example; Tue, 24 Nov 2026\r\n");
        }
        return sb.toString();
    }

    @Test
    void hopcountLimitRefusesALoopingMessageAsPostfix() throws Exception {
        FileQueueStore store = new FileQueueStore(tmp.resolve("q"));
        Cleanup c = cleanup(store, "hopcount_limit = 5\n");
        // 3 Received of the client + cleanup's own = 4 hops: below the limit
        Cleanup.Stream ok = c.open(submission("b@example.net"));
        byte[] fine = (received(3) + "Subject: hi\r\n\r\nbody\r\n").getBytes(StandardCharsets.US_ASCII);
        ok.write(fine, 0, fine.length);
        String id = ok.commit();
        assertTrue(content(store, id).contains("Received: from hop2.example"));
        // 4 + own = 5: refused, nothing queued
        Cleanup.Stream looping = c.open(submission("b@example.net"));
        byte[] loop = (received(4) + "Subject: hi\r\n\r\nbody\r\n").getBytes(StandardCharsets.US_ASCII);
        looping.write(loop, 0, loop.length);
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class, looping::commit);
        assertEquals("554 5.4.0 Error: too many hops", r.reply().toString());
        try (var files = Files.list(store.directory().resolve("incoming"))) {
            assertEquals(1, files.count(), "only the first message");
        }
    }

    @Test
    void messageDropHeadersLeaveTheQueueFile() throws Exception {
        FileQueueStore store = new FileQueueStore(tmp.resolve("q"));
        Cleanup c = cleanup(store, "");
        Cleanup.Stream s = c.open(submission("b@example.net"));
        byte[] msg = ("Return-Path: <forged@example.org>\r\nSubject: hi\r\nBcc: secret@example.net\r\n"
                + "Content-Length: 3\r\nResent-Bcc: x@example.net\r\nX-Keep: yes\r\n\r\nbody\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        s.write(msg, 0, msg.length);
        String text = content(store, s.commit());
        assertTrue(text.endsWith("\r\nSubject: hi\r\nX-Keep: yes\r\n\r\nbody\r\n"), text);

        Cleanup keep = cleanup(store, "message_drop_headers = bcc\n");
        s = keep.open(submission("b@example.net"));
        s.write(msg, 0, msg.length);
        text = content(store, s.commit());
        assertTrue(text.contains("Return-Path: <forged@example.org>\r\n") && !text.contains("Bcc: secret"), text);
    }
}
