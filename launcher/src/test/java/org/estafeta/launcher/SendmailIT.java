package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Local submission with the distribution's {@code bin/estafeta sendmail}, as root and as the unprivileged user
 * nobody (setpriv): mail reaches incoming/ through the submission socket and pickup with the right envelope sender
 * and the headers local mail gets; nobody cannot read maildrop/ or other users' queued mail; root's mail dropped
 * while the gateway is down is picked up at the next start, and nobody is told to try again later. master.cf has
 * no qmgr, so the mail stays in incoming/ to be looked at.
 */
class SendmailIT {
    static final String SETPRIV = "/usr/bin/setpriv";
    static final List<String> AS_NOBODY = List.of(SETPRIV, "--reuid=nobody", "--regid=nogroup", "--clear-groups");

    @TempDir
    Path tmp;

    @Test
    void rootAndNobodySubmitThroughTheGatewayAndRootDropsWhileItIsDown() throws Exception {
        Assumptions.assumeTrue(((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0,
                "needs root (to run sendmail as nobody too)");
        ItSupport.requirePeer(SETPRIV, "util-linux");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Path var = Files.createDirectories(tmp.resolve("var"));
        Files.writeString(conf.resolve("main.cf"), String.join("\n", "compatibility_level = 3.6",
                "myhostname = host.example.org", "myorigin = example.org", ""));
        Files.writeString(conf.resolve("master.cf"), "pickup unix n - n 60 1 pickup\n");

        // a first start creates the queue; stopped, root drops mail itself and nobody is turned away
        Gateway gateway = Gateway.start(conf, var, "minimal", Map.of());
        Path queue = gateway.queueDirectory();
        gateway.stop();
        Path socket = queue.resolve("public/pickup");
        assertTrue(!Files.exists(socket), "the socket goes away with the gateway");
        Result down = sendmail(conf, var, false, "Subject: dropped while down\n\nhello\n", "-f", "early@example.net",
                "postmaster");
        assertEquals(0, down.exit(), down.output());
        List<String> dropped = new FileQueueStore(queue).list(QueueName.MAILDROP);
        assertEquals(1, dropped.size(), "root wrote maildrop/ itself");
        Result nobodyDown = sendmail(conf, var, true, "Subject: x\n\nx\n", "someone@example.net");
        assertEquals(75, nobodyDown.exit(), nobodyDown.output());
        assertTrue(nobodyDown.output().startsWith("sendmail: fatal: nobody(65534): unable to connect to the mail system: "),
                nobodyDown.output());
        Result peek = run(AS_NOBODY, List.of("cat", queue.resolve("maildrop").resolve(dropped.get(0)).toString()));
        assertNotEquals(0, peek.exit(), "nobody cannot read root's maildrop file: " + peek.output());
        assertNotEquals(0, run(AS_NOBODY, List.of("ls", queue.resolve("maildrop").toString())).exit(),
                "nobody cannot list maildrop/");

        gateway = Gateway.start(conf, var, "minimal", Map.of());
        try {
            QueueStore store = new FileQueueStore(queue);
            assertTrue(ItSupport.waitFor(() -> find(store, "dropped while down") != null, 30),
                    "the dropped mail was picked up at start: " + ItSupport.maillog(gateway));
            Queued early = find(store, "dropped while down");
            assertEquals("early@example.net", early.sender());
            assertEquals(List.of("postmaster@example.org"), early.recipients(), "bare names get @$myorigin");
            assertTrue(early.content().startsWith("Received: by host.example.org ("), early.content());
            assertTrue(early.content().contains(", from userid 0)\r\n\tid " + early.id() + "; "), early.content());
            assertTrue(new FileQueueStore(queue).list(QueueName.MAILDROP).isEmpty(), "maildrop/ emptied");
            assertTrue(Files.exists(socket));
            assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));

            // root through the socket: -t with Bcc, -F, a lone dot ends the message
            Result root = sendmail(conf, var, false, "To: Ann <ann@example.net>, bob\nCc: carol@example.com\n"
                    + "Bcc: secret@example.net\nSubject: from root\n\nline one\n.\nnot part of it\n",
                    "-t", "-F", "Root Admin");
            assertEquals(0, root.exit(), root.output());
            assertTrue(ItSupport.waitFor(() -> find(store, "from root") != null, 30), ItSupport.maillog(gateway));
            Queued r = find(store, "from root");
            assertEquals("root@example.org", r.sender());
            assertEquals(List.of("ann@example.net", "bob@example.org", "carol@example.com", "secret@example.net"),
                    r.recipients());
            assertTrue(!r.content().contains("secret@example.net"), "Bcc removed: " + r.content());
            assertTrue(r.content().contains("\r\nFrom: Root Admin <root@example.org>\r\n"), r.content());
            assertTrue(r.content().contains("\r\nMessage-Id: <" + r.id() + "@host.example.org>\r\n"), r.content());
            assertTrue(r.content().contains("\r\nDate: "), r.content());
            assertTrue(r.content().endsWith("\r\n\r\nline one\r\n"), r.content());

            // nobody through the socket: the kernel says who it is; -i keeps the dot
            Result nobody = sendmail(conf, var, true, "Subject: from nobody\n\nx\n.\ny\n", "-i", "--", "dest@example.net");
            assertEquals(0, nobody.exit(), nobody.output());
            assertTrue(ItSupport.waitFor(() -> find(store, "from nobody") != null, 30), ItSupport.maillog(gateway));
            Queued n = find(store, "from nobody");
            assertEquals("nobody@example.org", n.sender());
            assertTrue(n.content().contains(", from userid 65534)\r\n"), n.content());
            assertTrue(n.content().contains("\r\nFrom: nobody <nobody@example.org>\r\n"), n.content());
            assertTrue(n.content().endsWith("\r\n\r\nx\r\n.\r\ny\r\n"), n.content());
            Gateway g = gateway;
            assertTrue(ItSupport.waitFor(() -> ItSupport.maillog(g)
                    .contains("pickup[" + ProcessHandle.current().pid() + "]: " + n.id() + ": uid=65534 from=<nobody@example.org>"), 10),
                    ItSupport.maillog(gateway));

            // nobody's -f is taken (as Postfix does), but the uid is the kernel's
            Result forged = sendmail(conf, var, true, "Subject: forged\nFrom: root@example.org\n\nz\n", "-f",
                    "root@example.org", "dest@example.net");
            assertEquals(0, forged.exit(), forged.output());
            assertTrue(ItSupport.waitFor(() -> find(store, "forged") != null, 30));
            assertTrue(find(store, "forged").content().contains(", from userid 65534)\r\n"));

            // nobody cannot read queued mail, or list public/
            Result cat = run(AS_NOBODY, List.of("cat", queue.resolve("incoming").resolve(r.id()).toString()));
            assertNotEquals(0, cat.exit(), "nobody reads root's queued mail: " + cat.output());
            assertNotEquals(0, run(AS_NOBODY, List.of("ls", queue.resolve("public").toString())).exit());

            Result noRcpt = sendmail(conf, var, true, "Subject: none\n\n", "-t");
            assertEquals(64, noRcpt.exit(), noRcpt.output());
            assertEquals("sendmail: fatal: nobody(65534): No recipient addresses found in message header\n",
                    noRcpt.output());
        } finally {
            gateway.stop();
        }
    }

    private record Queued(String id, String sender, List<String> recipients, String content) {
    }

    /** The message in incoming/ whose Subject is {@code subject}, or null. */
    private static Queued find(QueueStore store, String subject) {
        try {
            for (String id : store.list(QueueName.INCOMING)) {
                QueueStore.QueuedMessage m = store.read(QueueName.INCOMING, id);
                String content;
                try (var in = m.content()) {
                    content = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                if (content.contains("\r\nSubject: " + subject + "\r\n")) {
                    List<String> rcpts = new ArrayList<>();
                    m.envelope().recipients().forEach(x -> rcpts.add(x.address()));
                    return new Queued(id, m.envelope().sender(), rcpts, content);
                }
            }
            return null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result sendmail(Path conf, Path var, boolean asNobody, String message, String... args)
            throws Exception {
        List<String> cmd = new ArrayList<>(asNobody ? AS_NOBODY : List.of());
        Path home = asNobody ? homeForEveryone() : ItSupport.home();
        cmd.addAll(List.of("env", "ESTAFETA_VAR=" + var, home.resolve("bin/estafeta").toString(), "-c",
                conf.toString(), "sendmail"));
        cmd.addAll(List.of(args));
        Path in = Files.createTempFile("sendmail-it", ".eml");
        try {
            Files.writeString(in, message);
            Files.setPosixFilePermissions(in, PosixFilePermissions.fromString("rw-r--r--"));
            return run(cmd, in);
        } finally {
            Files.deleteIfExists(in);
        }
    }

    private static Path everyonesHome;

    @org.junit.jupiter.api.AfterAll
    static void removeCopy() throws Exception {
        if (everyonesHome != null) {
            run(List.of("rm", "-rf", everyonesHome.getParent().toString()), Path.of("/dev/null"));
        }
    }

    /**
     * The distribution as an unprivileged user can run it. A checkout under a private directory (a CI clone in a
     * {@code mktemp -d} directory is mode 0700) cannot be entered by nobody, so the command would fail with 126
     * before doing anything; then the test runs a copy in a directory everyone may enter, as an installed
     * distribution would be.
     */
    private static synchronized Path homeForEveryone() throws Exception {
        Path home = ItSupport.home();
        for (Path p = home.toAbsolutePath(); p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                if (everyonesHome == null) {
                    Path dir = Files.createTempDirectory("estafeta-dist");
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                    Path copy = dir.resolve("estafeta");
                    run(List.of("cp", "-a", home.toString(), copy.toString()), Path.of("/dev/null"));
                    run(List.of("chmod", "-R", "a+rX", copy.toString()), Path.of("/dev/null"));
                    everyonesHome = copy;
                }
                return everyonesHome;
            }
        }
        return home;
    }

    private static Result run(List<String> prefix, List<String> cmd) throws Exception {
        List<String> all = new ArrayList<>(prefix);
        all.addAll(cmd);
        return run(all, Path.of("/dev/null"));
    }

    private static Result run(List<String> cmd, Path stdin) throws Exception {
        Path out = Files.createTempFile("sendmail-it-out", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(stdin.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(cmd + " did not finish");
            }
            return new Result(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
