package org.estafeta.transport.local.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.estafeta.api.transport.RecipientResult.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MailboxTest {
    private static final ZonedDateTime WHEN = ZonedDateTime.of(2003, 1, 7, 12, 2, 20, 0, ZoneOffset.UTC);
    private static final MessageCopy COPY = new MessageCopy("ana@example.org", "luis@example.com", "luis@example.com",
            WHEN);

    @TempDir
    Path dir;

    /** A message of 40 body lines that all carry the tag and number, so interleaving shows. */
    static String body(String tag, int i) {
        StringBuilder sb = new StringBuilder("From: x@example.org\nSubject: " + tag + i + "\n\n");
        for (int l = 0; l < 40; l++) {
            sb.append(tag).append(i).append(" line ").append(l).append(" ").append(".".repeat(2000)).append("\n");
        }
        return sb.toString();
    }

    private static Mailbox.Owner owner() throws Exception {
        return new Mailbox.Owner(Fixtures.uid(), Fixtures.gid());
    }

    @Test
    void mboxHasFromLineEnvelopeHeadersQuotingAndBlankLineAtEnd() throws Exception {
        Path mbox = dir.resolve("luis");
        Outcome o = Mailbox.appendMbox(mbox, owner(), COPY,
                Fixtures.message("Subject: hola\n\nFrom aqui\n>From ya\nFrom\nfin"), 0, true, "5.2.0");
        assertEquals(Status.DELIVERED, o.status(), o.toString());
        assertEquals("From ana@example.org  Tue Jan  7 12:02:20 2003\n"
                + "Return-Path: <ana@example.org>\nX-Original-To: luis@example.com\nDelivered-To: luis@example.com\n"
                + "Subject: hola\n\n>From aqui\n>From ya\nFrom\nfin\n\n", Files.readString(mbox));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(mbox)));
        assertEquals(Fixtures.uid(), Fixtures.owner(mbox), "created mailbox belongs to the recipient");
        assertTrue(Files.notExists(dir.resolve("luis.lock")), "dotlock removed");
        Mailbox.appendMbox(mbox, owner(), COPY, Fixtures.message("Subject: dos\n\nb"), 0, true, "5.2.0");
        assertEquals(2, Files.readString(mbox).split("\nFrom ana@example.org  ", -1).length, "second message appended");
    }

    @Test
    void mailboxSizeLimitBouncesWithEfbigAndLeavesTheMailboxAsItWas() throws Exception {
        Path mbox = dir.resolve("luis");
        assertEquals(Status.DELIVERED,
                Mailbox.appendMbox(mbox, owner(), COPY, Fixtures.message("S: a\n\nx"), 300, true, "5.2.0").status());
        long size = Files.size(mbox);
        Outcome o = Mailbox.appendMbox(mbox, owner(), COPY, Fixtures.message("S: b\n\n" + "y".repeat(300)), 300, true,
                "5.2.0");
        assertEquals(Status.BOUNCED, o.status());
        assertEquals("5.2.2", o.dsn());
        assertEquals("error writing message: File too large", o.text());
        assertEquals(size, Files.size(mbox), "truncated back");
    }

    @Test
    void anotherOwnersMailboxIsDeferredAndASymlinkIsRefused() throws Exception {
        Path mbox = dir.resolve("luis");
        Files.writeString(mbox, "");
        Outcome o = Mailbox.appendMbox(mbox, new Mailbox.Owner(Fixtures.uid() + 1, 1), COPY, Fixtures.message("S: a\n\nx"),
                0, true, "5.2.0");
        assertEquals(Outcome.deferred("4.2.0", "destination " + mbox + " is not owned by recipient"), o);
        Path link = Files.createSymbolicLink(dir.resolve("link"), mbox);
        o = Mailbox.appendMbox(link, owner(), COPY, Fixtures.message("S: a\n\nx"), 0, true, "5.2.0");
        assertEquals(Outcome.bounced("5.2.0", "file is a symbolic link"), o);
        assertEquals(0, Files.size(mbox));
    }

    @Test
    void maildirWritesNewFilesWithUniqueNamesAndLeavesTmpEmpty() throws Exception {
        Path md = dir.resolve("Maildir");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Outcome>> fs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String text = body("m", i);
            fs.add(pool.submit(() -> Mailbox.deliverMaildir(md, owner(), COPY, Fixtures.message(text), 0, "5.2.0")));
        }
        for (Future<Outcome> f : fs) {
            assertEquals(Status.DELIVERED, f.get().status(), f.get().toString());
        }
        pool.shutdown();
        assertTrue(Files.isDirectory(md.resolve("cur")));
        try (Stream<Path> tmp = Files.list(md.resolve("tmp"))) {
            assertEquals(0, tmp.count(), "tmp/ empty");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(md.resolve("new"))) {
            files = s.toList();
        }
        assertEquals(40, files.size());
        Pattern name = Pattern.compile("(\\d+)\\.V[0-9a-f]+I([0-9a-f]+)M\\d+\\.[^/:]+");
        Set<String> inodes = new HashSet<>();
        Set<String> subjects = new HashSet<>();
        for (Path f : files) {
            Matcher m = name.matcher(f.getFileName().toString());
            assertTrue(m.matches(), f.toString());
            inodes.add(m.group(2));
            String text = Files.readString(f);
            assertTrue(text.startsWith("Return-Path: <ana@example.org>\nX-Original-To: luis@example.com\n"
                    + "Delivered-To: luis@example.com\nFrom: x@example.org\n"), text);
            assertTrue(!text.contains("\r"), "LF line ends");
            subjects.add(text.lines().filter(l -> l.startsWith("Subject: ")).findFirst().orElseThrow());
            assertEquals(Fixtures.uid(), Fixtures.owner(f));
        }
        assertEquals(40, inodes.size(), "unique names");
        assertEquals(40, subjects.size(), "every message once");
        assertEquals(Fixtures.uid(), Fixtures.owner(md.resolve("new")));
    }

    @Test
    void maildirMessageOverTheLimitBouncesAndLeavesNothing() throws Exception {
        Path md = dir.resolve("Maildir");
        Outcome o = Mailbox.deliverMaildir(md, owner(), COPY, Fixtures.message("S: a\n\n" + "y".repeat(500)), 100, "5.2.0");
        assertEquals(Outcome.bounced("5.2.2", "error writing message: File too large"), o);
        try (Stream<Path> s = Stream.concat(Files.list(md.resolve("tmp")), Files.list(md.resolve("new")))) {
            assertEquals(0, s.count());
        }
    }

    @Test
    void twoThreadsAppendingToOneMboxNeverInterleave() throws Exception {
        Path mbox = dir.resolve("luis");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> fs = new ArrayList<>();
        for (String tag : new String[] {"a", "b"}) {
            fs.add(pool.submit(() -> {
                for (int i = 0; i < 25; i++) {
                    Outcome o = Mailbox.appendMbox(mbox, owner(), COPY, Fixtures.message(body(tag, i)), 0, true, "5.2.0");
                    assertEquals(Status.DELIVERED, o.status(), o.toString());
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertWhole(Files.readString(mbox), List.of("a", "b"), 25);
    }

    @Test
    void twoProcessesAppendingToOneMboxNeverInterleave() throws Exception {
        Path mbox = dir.resolve("luis");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> ps = new ArrayList<>();
        for (String tag : new String[] {"p", "q"}) {
            ps.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    MboxWriterMain.class.getName(), mbox.toString(), tag, "25", Integer.toString(Fixtures.uid()))
                    .inheritIO().start());
        }
        // and this JVM at the same time
        for (int i = 0; i < 25; i++) {
            assertEquals(Status.DELIVERED, Mailbox.appendMbox(mbox, owner(), COPY, Fixtures.message(body("t", i)), 0,
                    true, "5.2.0").status());
        }
        for (Process p : ps) {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue());
        }
        assertWhole(Files.readString(mbox), List.of("p", "q", "t"), 25);
    }

    /** Every message of every tag is there once, its 40 lines together and in order. */
    private static void assertWhole(String mbox, List<String> tags, int n) {
        String[] messages = mbox.split("(?m)^(?=From \\S+  \\w{3} \\w{3} [ \\d]\\d )");
        assertEquals(tags.size() * n, messages.length - (messages[0].isEmpty() ? 1 : 0));
        Set<String> seen = new HashSet<>();
        for (String m : messages) {
            if (m.isEmpty()) {
                continue;
            }
            String subject = m.lines().filter(l -> l.startsWith("Subject: ")).findFirst().orElseThrow().substring(9);
            assertTrue(seen.add(subject), "twice: " + subject);
            List<String> lines = m.lines().filter(l -> l.contains(" line ")).toList();
            assertEquals(40, lines.size(), m);
            for (int l = 0; l < 40; l++) {
                assertTrue(lines.get(l).startsWith(subject + " line " + l + " "), "interleaved: " + m);
            }
            assertTrue(m.endsWith("\n\n"), "blank line before the next From_");
        }
    }
}
