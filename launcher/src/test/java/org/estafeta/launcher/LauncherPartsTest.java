package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.estafeta.launcher.log.Maillog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherPartsTest {
    @TempDir
    Path tmp;

    @Test
    void pidLineIsPostfixFormat() {
        assertEquals("                            1234\n", PidLock.format(1234));
        assertEquals(33, PidLock.format(Long.MAX_VALUE).length());
    }

    @Test
    void pidLockIsExclusiveAndWritesThePid() throws Exception {
        Path pid = tmp.resolve("pid/master.pid");
        try (PidLock lock = PidLock.acquire(pid)) {
            assertEquals(ProcessHandle.current().pid(), PidLock.readPid(pid).orElseThrow());
            GatewayException e = assertThrows(GatewayException.class, () -> PidLock.acquire(pid));
            assertTrue(e.getMessage().startsWith("the Estafeta mail system is already running (pid "), e.getMessage());
        }
        // the refusal above must not have dropped the lock: another process still cannot take it
        try (PidLock held = PidLock.acquire(pid)) {
            Process p = new ProcessBuilder("python3", "-c",
                    "import fcntl,sys\nf=open(sys.argv[1],'r+')\ntry:\n fcntl.lockf(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\n"
                            + " sys.exit(0)\nexcept OSError:\n sys.exit(3)", pid.toString()).inheritIO().start();
            assertThrows(GatewayException.class, () -> PidLock.acquire(pid));
            assertTrue(PidLock.isLocked(pid));
            assertEquals(ProcessHandle.current().pid(), PidLock.readPid(pid).orElseThrow());
            Process q = new ProcessBuilder("python3", "-c",
                    "import fcntl,sys\nf=open(sys.argv[1],'r+')\ntry:\n fcntl.lockf(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\n"
                            + " sys.exit(0)\nexcept OSError:\n sys.exit(3)", pid.toString()).inheritIO().start();
            assertEquals(3, p.waitFor(), "another process took the lock");
            assertEquals(3, q.waitFor(), "another process took the lock after an in-JVM refusal");
        }
        try (PidLock again = PidLock.acquire(pid)) {
            assertEquals(pid, again.path());
        }
        assertFalse(PidLock.isLocked(pid));
        assertFalse(PidLock.isLocked(tmp.resolve("nothing/master.pid")));
    }

    @Test
    void webConsoleHashHasFelixFormatAndMatchesOnlyThePassword() {
        String h = WebConsoleCredentials.hash("s3cret");
        assertTrue(h.matches("\\{sha-256\\}[0-9a-f]{16}-1000-[A-Za-z0-9+/]{43}="), h);
        assertTrue(WebConsoleCredentials.matches(h, "s3cret"));
        assertFalse(WebConsoleCredentials.matches(h, "s3cre"));
        assertFalse(h.equals(WebConsoleCredentials.hash("s3cret")), "salted");
        // a known value: one SHA-256 round of "ab" + "c" is SHA-256("abc")
        assertEquals("{sha-256}ab-1-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
                WebConsoleCredentials.hash("c", "ab", 1));
    }

    @Test
    void generatedPasswordIsShownOnceAndOnlyItsHashIsKept() throws IOException {
        WebConsoleCredentials.Credentials first = WebConsoleCredentials.resolve("admin", "", tmp);
        String pw = first.generatedPassword().orElseThrow();
        assertTrue(pw.length() >= 16 && !pw.equals("admin"));
        Path file = tmp.resolve(WebConsoleCredentials.HASH_FILE);
        String stored = Files.readString(file).trim();
        assertEquals(first.passwordHash(), stored);
        assertFalse(stored.contains(pw));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue(WebConsoleCredentials.matches(stored, pw));

        WebConsoleCredentials.Credentials second = WebConsoleCredentials.resolve("admin", "", tmp);
        assertTrue(second.generatedPassword().isEmpty());
        assertEquals(stored, second.passwordHash());

        WebConsoleCredentials.Credentials configured = WebConsoleCredentials.resolve("admin", "given", tmp);
        assertTrue(configured.generatedPassword().isEmpty());
        assertTrue(WebConsoleCredentials.matches(configured.passwordHash(), "given"));
    }

    @Test
    void featureListsIncludeOthersAndNameTheirJars() throws Exception {
        Files.createDirectories(tmp.resolve("base"));
        Files.createDirectories(tmp.resolve("top"));
        Files.writeString(tmp.resolve("base/bundles.list"), "# base\n1 org.osgi:org.osgi.util.function\n\n");
        Files.writeString(tmp.resolve("top/bundles.list"),
                "include base\n  3 io.netty:netty-transport-native-epoll:linux-x86_64  \n");
        Feature f = Feature.load(tmp, "top");
        assertEquals(2, f.entries().size());
        assertEquals(Path.of("/s/org.osgi.org.osgi.util.function.jar"), f.entries().get(0).jar(Path.of("/s")));
        assertEquals(Path.of("/s/io.netty.netty-transport-native-epoll-linux-x86_64.jar"),
                f.entries().get(1).jar(Path.of("/s")));
        assertEquals(3, f.highestStartLevel());
    }

    @Test
    void badFeatureListsNameFileAndLine() throws Exception {
        Files.createDirectories(tmp.resolve("bad"));
        Files.writeString(tmp.resolve("bad/bundles.list"), "1 a:b\nx a:b\n");
        GatewayException e = assertThrows(GatewayException.class, () -> Feature.load(tmp, "bad"));
        assertTrue(e.getMessage().endsWith("bundles.list, line 2: bad start level: x"), e.getMessage());
        Files.createDirectories(tmp.resolve("loop"));
        Files.writeString(tmp.resolve("loop/bundles.list"), "include loop\n");
        assertThrows(GatewayException.class, () -> Feature.load(tmp, "loop"));
        assertThrows(GatewayException.class, () -> Feature.load(tmp, "absent"));
    }

    @Test
    void loggerNamesMapToShortProgramNames() {
        assertEquals("smtpd", Maillog.programName("smtpd"));
        assertEquals("jetty", Maillog.programName("org.eclipse.jetty.server.Server"));
        assertEquals("master", Maillog.programName("org.estafeta.master.internal.Supervisor"));
        assertEquals("webconsole", Maillog.programName("org.apache.felix.webconsole.internal.servlet.OsgiManager"));
        assertEquals("netty", Maillog.programName("io.netty.util.internal.PlatformDependent"));
        assertEquals("acme", Maillog.programName("com.acme.Thing"));
    }

    @Test
    void controlAnswersEndWithExitStatus() throws IOException {
        ControlClient.Answer a = ControlClient.parse("line one\n  two\nexit 2\n", Path.of("/s"));
        assertEquals(List.of("line one", "  two"), a.lines());
        assertEquals(2, a.exit());
        assertEquals(1, ControlClient.parse("exit 1\n", Path.of("/s")).exit());
        assertThrows(IOException.class, () -> ControlClient.parse("no status\n", Path.of("/s")));
        assertThrows(IOException.class, () -> ControlClient.parse("", Path.of("/s")));
    }

    @Test
    void postconfSeesTheConfigDirectoryWhereverMinusCStands(@TempDir Path dir) throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("main.cf"), "myhostname = mx.example.com\nmydomain = example.com\nmyorigin = $mydomain\n");
        Files.writeString(conf.resolve("master.cf"), "");
        String before = postconfOutput(dir, "-c", conf.toString(), "postconf", "-n");
        String after = postconfOutput(dir, "postconf", "-n", "-c", conf.toString());
        // as Postfix's postconf -c: config_directory counts as set explicitly
        assertEquals("config_directory = " + conf + "\nmydomain = example.com\nmyhostname = mx.example.com\n"
                + "myorigin = $mydomain\n", before);
        assertEquals(before, after);
        assertEquals("example.com\n", postconfOutput(dir, "-c", conf.toString(), "postconf", "-x", "-h", "myorigin"));
    }

    private static String postconfOutput(Path dir, String... args) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int status = new Main(new java.io.PrintStream(out, true), new java.io.PrintStream(err, true), dir.resolve("home"),
                dir.resolve("var")).execute(args);
        assertEquals(0, status, err.toString());
        return out.toString();
    }
}
