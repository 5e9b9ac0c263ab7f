package org.estafeta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QueueCommandsTest {
    static final ZoneId UTC = ZoneOffset.UTC;

    @TempDir
    Path dir;

    private String queue(FileQueueStore store, QueueName q, String sender, String content, String... rcpts)
            throws IOException {
        List<Envelope.Recipient> rs = new java.util.ArrayList<>();
        for (String r : rcpts) {
            boolean done = r.startsWith("done:");
            rs.add(new Envelope.Recipient(done ? r.substring(5) : r, List.of("SUCCESS", "FAILURE"),
                    Optional.of("rfc822;" + r), done ? Envelope.Status.DONE : Envelope.Status.PENDING));
        }
        Envelope e = new Envelope(1_764_000_000_123_456L, sender, Map.of("ENVID", "abc"), rs,
                new Envelope.Client("127.0.0.1", "localhost", "client.example", "ESMTP"), List.of());
        QueueStore.Writer w = store.create(e);
        byte[] b = content.getBytes(StandardCharsets.US_ASCII);
        w.write(b, 0, b.length);
        w.commit(q);
        return w.id();
    }

    @Test
    void listingHasPostfixLongIdFormatMarksAndTrailer() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueAdmin admin = new QueueAdmin(dir);
        assertEquals("Mail queue is empty\n", QueueCommands.postqueue(List.of("-p"), admin, UTC).stdout());

        String a = queue(store, QueueName.INCOMING, "", "x".repeat(2000), "u1@example.net", "done:u2@example.net");
        String b = queue(store, QueueName.ACTIVE, "s@example.org", "y".repeat(100), "v@example.net");
        String c = queue(store, QueueName.HOLD, "we ird@example.org", "z", "w@example.net");
        QueueCommands.Output o = QueueCommands.postqueue(List.of("-p"), admin, UTC);
        assertEquals(0, o.exit());
        // 1_764_000_000 is Mon Nov 24 16:00:00 2025 UTC; showq order: active, incoming, hold
        String expected = String.join("\n",
                "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------",
                String.format("%-17s %8d %s %s", b + "*", 100, "Mon Nov 24 16:00:00", "s@example.org"),
                String.format("%-17s %8s %-19s %s", "", "", "", "v@example.net"),
                "",
                String.format("%-17s %8d %s %s", a, 2000, "Mon Nov 24 16:00:00", "MAILER-DAEMON"),
                String.format("%-17s %8s %-19s %s", "", "", "", "u1@example.net"),
                "",
                String.format("%-17s %8d %s %s", c + "!", 1, "Mon Nov 24 16:00:00", "\"we ird\"@example.org"),
                String.format("%-17s %8s %-19s %s", "", "", "", "w@example.net"),
                "",
                "-- 2 Kbytes in 3 Requests.", "");
        assertEquals(expected, o.stdout());
        assertTrue(o.stdout().lines().skip(1).findFirst().orElseThrow().startsWith(b + "*    "));
    }

    @Test
    void deferralReasonsArePrintedAsShowqDoes() {
        QueueAdmin.Entry e = new QueueAdmin.Entry(QueueName.DEFERRED, "4dZ8sL2kQmz1cB5", 1_764_000_000_000_000L, 500,
                "s@example.org", List.of(new QueueAdmin.Recipient("a@x", "connect to x: timed out"),
                        new QueueAdmin.Recipient("b@x", "connect to x: timed out"),
                        new QueueAdmin.Recipient("c@y", "")));
        List<String> l = QueueCommands.showq(List.of(e), UTC);
        String r1 = "(connect to x: timed out)";
        assertEquals(" ".repeat(76 - r1.length() + 2) + r1, l.get(2));
        assertTrue(l.get(3).endsWith(" a@x") && l.get(4).endsWith(" b@x"), l.toString());
        assertEquals(" ".repeat(76 - 18) + "(reason unavailable)", l.get(5));
        assertEquals("-- 0 Kbytes in 1 Request.", l.get(l.size() - 1));
    }

    @Test
    void postsuperHoldReleaseRequeueDeleteOneAndAll() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueAdmin admin = new QueueAdmin(dir);
        String a = queue(store, QueueName.INCOMING, "s@example.org", "a", "r@example.net");
        String b = queue(store, QueueName.DEFERRED, "s@example.org", "b", "r@example.net");

        QueueCommands.Output h = QueueCommands.postsuper(List.of("-h", a), admin);
        assertEquals("postsuper: " + a + ": placed on hold\npostsuper: Placed on hold: 1 message\n", h.stderr());
        assertEquals(0, h.exit());
        assertEquals(List.of(a), store.list(QueueName.HOLD));
        assertEquals(List.of(), store.list(QueueName.INCOMING));

        QueueCommands.Output again = QueueCommands.postsuper(List.of("-h", a), admin);
        assertEquals("postsuper: Placed on hold: 0 messages\n", again.stderr(), "hold skips the hold queue");

        QueueCommands.Output rel = QueueCommands.postsuper(List.of("-H", "ALL"), admin);
        assertEquals("postsuper: Released from hold: 1 message\n", rel.stderr());
        assertEquals(List.of(a, b), store.list(QueueName.DEFERRED), "released to deferred, as Postfix");

        QueueCommands.Output rq = QueueCommands.postsuper(List.of("-r", b), admin);
        assertEquals("postsuper: " + b + ": requeued\npostsuper: Requeued: 1 message\n", rq.stderr());
        assertEquals(List.of(b), store.list(QueueName.INCOMING));

        QueueCommands.Output only = QueueCommands.postsuper(List.of("-d", "ALL", "incoming"), admin);
        assertEquals("postsuper: Deleted: 1 message\n", only.stderr());
        assertEquals(List.of(a), store.list(QueueName.DEFERRED), "only the queue named");

        QueueCommands.Output bad = QueueCommands.postsuper(List.of("-d", "nonsense", "-d", a), admin);
        assertEquals("postsuper: warning: invalid mail queue id: nonsense\npostsuper: " + a
                + ": removed\npostsuper: Deleted: 1 message\n", bad.stderr());
        assertEquals("Mail queue is empty\n", QueueCommands.postqueue(List.of("-p"), admin, UTC).stdout());

        QueueCommands.Output q = QueueCommands.postsuper(List.of("-d", "ALL", "bogus"), admin);
        assertEquals(1, q.exit());
        assertEquals("postsuper: fatal: invalid directory name: bogus\n", q.stderr());
    }

    @Test
    void onlyCommittedFilesAreSeenAndNoneIsOverwritten() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueAdmin admin = new QueueAdmin(dir);
        QueueStore.Writer w = store.create(new Envelope(1, "s@x", Map.of(),
                List.of(new Envelope.Recipient("r@x", List.of(), Optional.empty(), Envelope.Status.PENDING)),
                new Envelope.Client("", "", "", "SMTP"), List.of()));
        w.write(new byte[] {'a'}, 0, 1);
        assertEquals("Mail queue is empty\n", QueueCommands.postqueue(List.of("-p"), admin, UTC).stdout());
        assertEquals("postsuper: Deleted: 0 messages\n",
                QueueCommands.postsuper(List.of("-d", "ALL"), admin).stderr());
        w.commit(QueueName.INCOMING);
        assertFalse(QueueCommands.postqueue(List.of("-p"), admin, UTC).stdout().contains("empty"));

        String id = w.id();
        Files.writeString(dir.resolve("hold").resolve(id), "another file of the same name");
        QueueCommands.Output o = QueueCommands.postsuper(List.of("-h", id), admin);
        assertEquals(1, o.exit(), o.stderr());
        assertTrue(Files.exists(dir.resolve("incoming").resolve(id)), "the queued file stays where it was");
    }

    @Test
    void flushAnswersAsPostfixWithoutAQueueManager() {
        QueueAdmin admin = new QueueAdmin(dir);
        for (List<String> args : List.of(List.of("-f"), List.of("-i", "4dZ8sL2kQmz1cB5"), List.of("-s", "example.com"))) {
            QueueCommands.Output o = QueueCommands.postqueue(args, admin, UTC);
            assertEquals(QueueCommands.EX_UNAVAILABLE, o.exit());
            assertEquals("postqueue: fatal: Cannot flush mail queue - mail system is down\n", o.stderr());
        }
        QueueCommands.Output u = QueueCommands.postqueue(List.of(), admin, UTC);
        assertEquals(QueueCommands.EX_USAGE, u.exit());
        assertTrue(u.stderr().startsWith("postqueue: fatal: usage: postqueue -f"), u.stderr());
    }

    @Test
    void postcatShowsEnvelopeAndContentAsPostfix() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueAdmin admin = new QueueAdmin(dir);
        String id = queue(store, QueueName.DEFERRED, "s@example.org",
                "Subject: hi\r\nFrom: s@example.org\r\n\r\nline 1\r\nline 2\r\n", "r@example.net", "done:d@example.net");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        QueueCommands.Output o = QueueCommands.postcat(List.of("-q", id), admin, UTC, out);
        assertEquals(0, o.exit(), o.stderr());
        String text = out.toString(StandardCharsets.UTF_8);
        String p = "deferred/" + id;
        assertTrue(text.startsWith("*** ENVELOPE RECORDS " + p + " ***\nmessage_size: "), text);
        assertTrue(text.contains("\nmessage_arrival_time: Mon Nov 24 16:00:00 2025\n"), text);
        assertTrue(text.contains("\nsender: s@example.org\n"), text);
        assertTrue(text.contains("\ndsn_envelope_id: abc\n"), text);
        assertTrue(text.contains("\ndsn_original_recipient: rfc822;r@example.net\ndsn_notify_flags: 6\n"
                + "recipient: r@example.net\n"), text);
        assertTrue(text.contains("\ndone_recipient: d@example.net\n"), text);
        assertTrue(text.endsWith("*** MESSAGE CONTENTS " + p + " ***\nSubject: hi\nFrom: s@example.org\n\nline 1\n"
                + "line 2\n*** HEADER EXTRACTED " + p + " ***\n*** MESSAGE FILE END " + p + " ***\n"), text);

        ByteArrayOutputStream bodyOnly = new ByteArrayOutputStream();
        QueueCommands.postcat(List.of("-bq", id), admin, UTC, bodyOnly);
        assertEquals("\nline 1\nline 2\n", bodyOnly.toString(StandardCharsets.UTF_8));

        QueueCommands.Output missing = QueueCommands.postcat(List.of("-q", "4dZ8sL2kQmz1cB5"), admin, UTC,
                new ByteArrayOutputStream());
        assertEquals(1, missing.exit());
        assertEquals("postcat: fatal: open queue file 4dZ8sL2kQmz1cB5: No such file or directory\n", missing.stderr());
    }

    @Test
    void postcatShowsExtractedRecordsAfterTheContent() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueAdmin admin = new QueueAdmin(dir);
        QueueStore.Writer w = store.create(new Envelope(1_764_000_000_000_000L, "s@x", Map.of(),
                List.of(new Envelope.Recipient("r@x", List.of(), Optional.empty(), Envelope.Status.PENDING)),
                new Envelope.Client("", "", "", "SMTP"), List.of()));
        w.write(new byte[] {'a', '\r', '\n'}, 0, 3);
        w.commit(QueueName.INCOMING, new Envelope.Extracted(List.of(new Envelope.Action("filter", "relay:[h]"),
                new Envelope.Action("redirect", "boss@x")), List.of(new Envelope.Recipient("audit@x",
                        List.of("NEVER"), Optional.empty(), Envelope.Status.PENDING))));
        String id = w.id();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        QueueCommands.Output o = QueueCommands.postcat(List.of("-q", id), admin, UTC, out);
        assertEquals(0, o.exit(), o.stderr());
        String p = "incoming/" + id;
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("\nsender: s@x\nrecipient: r@x\n*** MESSAGE CONTENTS " + p + " ***\na\n"
                + "*** HEADER EXTRACTED " + p + " ***\ncontent_filter: relay:[h]\nredirect_to: boss@x\n"
                + "dsn_notify_flags: 1\nrecipient: audit@x\n*** MESSAGE FILE END " + p + " ***\n"), text);
        String listing = QueueCommands.postqueue(List.of("-p"), admin, UTC).stdout();
        assertTrue(listing.contains("r@x") && listing.contains("audit@x"), listing);
    }

    @Test
    void postcatShowsAFiltersSenderChangeAndRemovedRecipientsAndPostqueueTheirEffect() throws IOException {
        FileQueueStore store = new FileQueueStore(dir);
        QueueAdmin admin = new QueueAdmin(dir);
        QueueStore.Writer w = store.create(new Envelope(1_764_000_000_000_000L, "s@x", Map.of(),
                List.of(new Envelope.Recipient("r@x", List.of(), Optional.empty(), Envelope.Status.PENDING),
                        new Envelope.Recipient("gone@x", List.of(), Optional.empty(), Envelope.Status.PENDING)),
                new Envelope.Client("", "", "", "SMTP"), List.of()));
        w.write(new byte[] {'a', '\r', '\n'}, 0, 3);
        w.commit(QueueName.INCOMING, new Envelope.Extracted(List.of(
                new Envelope.Action(Envelope.Extracted.SENDER, "new@x"),
                new Envelope.Action(Envelope.Extracted.REMOVE, "gone@x")), List.of()));
        String id = w.id();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        QueueCommands.Output o = QueueCommands.postcat(List.of("-q", id), admin, UTC, out);
        assertEquals(0, o.exit(), o.stderr());
        String p = "incoming/" + id;
        String text = out.toString(StandardCharsets.UTF_8);
        // the envelope records as written, the filter's changes where the file has them
        assertTrue(text.contains("\nsender: s@x\nrecipient: r@x\nrecipient: gone@x\n*** MESSAGE CONTENTS " + p
                + " ***\na\n*** HEADER EXTRACTED " + p + " ***\nsender_changed_to: new@x\nrecipient_removed: gone@x\n"
                + "*** MESSAGE FILE END " + p + " ***\n"), text);
        assertTrue(text.matches("(?s)\\*\\*\\* ENVELOPE RECORDS [^\n]*\nmessage_size: +3 +\\d+ +1 .*"),
                "one recipient left to deliver: " + text);

        String listing = QueueCommands.postqueue(List.of("-p"), admin, UTC).stdout();
        assertTrue(listing.contains(" new@x\n") && listing.contains(" r@x\n"), listing);
        assertFalse(listing.contains("s@x") || listing.contains("gone@x"), listing);
    }
}
