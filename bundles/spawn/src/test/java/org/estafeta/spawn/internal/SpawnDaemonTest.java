package org.estafeta.spawn.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.estafeta.config.MasterEntry;
import org.estafeta.testing.FakeSnapshot;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * Real commands behind a real socket, run as {@code nobody} through setpriv (these tests run as root, as the
 * gateway does).
 */
class SpawnDaemonTest {
    @TempDir
    Path tmp;

    final RecordingLogger log = new RecordingLogger("spawn");
    final RecordingLogger masterLog = new RecordingLogger("master");
    final List<SpawnInstance> started = new ArrayList<>();

    @AfterEach
    void stop() {
        started.forEach(SpawnInstance::stop);
    }

    static MasterEntry entry(String service, String type, String maxproc, String... arguments) {
        return new MasterEntry(service, type, "n", "n", "n", "-", maxproc, "spawn", Map.of(), List.of(arguments),
                "master.cf", 7);
    }

    /** A unix entry in a private queue directory, started with these main.cf parameters. */
    SpawnInstance startUnix(String maxproc, Map<String, String> params, String... arguments) throws IOException {
        Map<String, String> p = new java.util.HashMap<>(params);
        p.put("queue_directory", tmp.toString());
        MasterEntry e = entry("scan", "unix", maxproc, arguments);
        FakeSnapshot config = new FakeSnapshot(p);
        SpawnInstance instance = new SpawnInstance(e.service(), "public/scan", SpawnSettings.from(e, config), log,
                masterLog);
        instance.bindUnix(ListenAddresses.unix(e, config));
        started.add(instance);
        return instance;
    }

    SocketChannel connect() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(tmp.resolve("public/scan")));
        return ch;
    }

    static String readAll(SocketChannel ch) throws IOException {
        InputStream in = java.nio.channels.Channels.newInputStream(ch);
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    static boolean waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(20);
        }
        return condition.getAsBoolean();
    }

    @Test
    void relaysBothWaysAndEndsWhenTheCommandEnds() throws Exception {
        startUnix("-", Map.of(), "user=nobody", "argv=/bin/cat");
        try (SocketChannel ch = connect()) {
            ch.write(ByteBuffer.wrap("hello\r\nworld\r\n".getBytes(StandardCharsets.US_ASCII)));
            ch.shutdownOutput(); // end of file for cat, which then exits
            assertEquals("hello\r\nworld\r\n", readAll(ch));
        }
        assertTrue(log.lines().isEmpty(), log.lines().toString());
    }

    @Test
    void theCommandRunsAsTheUserWithTheExportedEnvironmentOnly() throws Exception {
        startUnix("-", Map.of("export_environment", "TZ { FOO = bar baz }"), "user=nobody",
                "argv=/bin/sh", "-c", "id -u; id -g; env | sort");
        String out;
        try (SocketChannel ch = connect()) {
            out = readAll(ch);
        }
        List<String> lines = out.lines().toList();
        assertEquals("65534", lines.get(0), out);
        assertEquals(List.of("FOO=bar baz", "PATH=/usr/bin:/bin"),
                lines.stream().filter(l -> l.startsWith("FOO=") || l.startsWith("PATH=") || l.startsWith("HOME="))
                        .toList(), out);
    }

    @Test
    void stderrGoesToTheClientAndANonZeroExitIsLogged() throws Exception {
        startUnix("-", Map.of(), "user=nobody", "argv=/bin/sh", "-c", "echo oops >&2; exit 3");
        try (SocketChannel ch = connect()) {
            assertEquals("oops\n", readAll(ch));
        }
        assertTrue(waitFor(() -> !log.lines(Level.WARN).isEmpty()));
        assertEquals(List.of("command /bin/sh exit status 3"), log.lines(Level.WARN));
    }

    @Test
    void theTimeLimitKillsTheCommandAndItsChildren() throws Exception {
        startUnix("-", Map.of("command_time_limit", "100s", "scan_time_limit", "1s"), "user=nobody",
                "argv=/bin/sh", "-c", "sleep 60 & echo started; sleep 60");
        long t0 = System.nanoTime();
        try (SocketChannel ch = connect()) {
            assertEquals("started\n", readAll(ch)); // end of file once the command and its child are gone
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(millis >= 900 && millis < 10_000, millis + " ms");
        assertTrue(waitFor(() -> log.lines(Level.WARN).size() >= 2), log.lines().toString());
        List<String> w = log.lines(Level.WARN);
        assertTrue(w.get(0).matches("/bin/sh: process id \\d+: command time limit exceeded"), w.toString());
        assertEquals("command /bin/sh killed by signal 9", w.get(1));
    }

    @Test
    void maxprocMakesTheNextClientWait() throws Exception {
        SpawnInstance instance = startUnix("1", Map.of(), "user=nobody", "argv=/bin/cat");
        try (SocketChannel first = connect(); SocketChannel second = connect()) {
            assertTrue(waitFor(() -> instance.active() == 1));
            second.write(ByteBuffer.wrap("two\n".getBytes(StandardCharsets.US_ASCII)));
            second.shutdownOutput();
            assertTrue(waitFor(() -> !masterLog.lines(Level.WARN).isEmpty()));
            assertEquals("service \"scan\" (public/scan) has reached its process limit \"1\": new clients may"
                    + " experience noticeable delays", masterLog.lines(Level.WARN).get(0));
            Thread.sleep(300);
            assertEquals(1, instance.active(), "the second client waits");
            first.write(ByteBuffer.wrap("one\n".getBytes(StandardCharsets.US_ASCII)));
            first.shutdownOutput();
            assertEquals("one\n", readAll(first));
            assertEquals("two\n", readAll(second), "served once the first ended");
        }
    }

    @Test
    void stopKillsCommandsThatDoNotEnd() throws Exception {
        SpawnInstance instance = startUnix("-", Map.of(), "user=nobody", "argv=/bin/sleep", "60");
        try (SocketChannel ch = connect()) {
            assertTrue(waitFor(() -> instance.active() == 1));
            long t0 = System.nanoTime();
            instance.stop();
            assertEquals("", readAll(ch));
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 15_000);
        }
        assertTrue(waitFor(() -> instance.active() == 0));
        assertTrue(!tmp.resolve("public/scan").toFile().exists(), "the socket file is removed");
    }

    @Test
    void inetEntryThroughTheDaemon() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        MasterEntry e = entry("127.0.0.1:" + port, "inet", "10", "user=nobody", "argv=/bin/cat");
        var instance = new SpawnDaemon().start(e, FakeSnapshot.of());
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            assertEquals("ping\n", new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            assertTrue(instance.describe().startsWith("spawn /bin/cat listening on 127.0.0.1:" + port), instance.describe());
        } finally {
            instance.stop();
        }
    }

    @Test
    void unusableEntriesAreRefusedWithSpawnsWords() {
        SpawnDaemon d = new SpawnDaemon();
        FakeSnapshot c = FakeSnapshot.of();
        assertEquals("127.0.0.1:1/inet: fatal: request to deliver as root", assertThrows(IllegalArgumentException.class,
                () -> d.start(entry("127.0.0.1:1", "inet", "-", "user=root", "argv=/bin/cat"), c)).getMessage());
        assertEquals("127.0.0.1:1/inet: fatal: missing user= attribute", assertThrows(IllegalArgumentException.class,
                () -> d.start(entry("127.0.0.1:1", "inet", "-", "argv=/bin/cat"), c)).getMessage());
        assertEquals("127.0.0.1:1/inet: fatal: missing argv= attribute", assertThrows(IllegalArgumentException.class,
                () -> d.start(entry("127.0.0.1:1", "inet", "-", "user=nobody"), c)).getMessage());
        assertEquals("127.0.0.1:1/inet: fatal: unknown attribute name: flags=R",
                assertThrows(IllegalArgumentException.class,
                        () -> d.start(entry("127.0.0.1:1", "inet", "-", "flags=R", "user=nobody", "argv=/bin/cat"), c))
                        .getMessage());
        assertEquals("127.0.0.1:1/inet: fatal: unknown user name: no-such-user-here",
                assertThrows(IllegalArgumentException.class,
                        () -> d.start(entry("127.0.0.1:1", "inet", "-", "user=no-such-user-here", "argv=/bin/cat"), c))
                        .getMessage());
        assertEquals("127.0.0.1:1/inet: fatal: request to deliver as mail system owner",
                assertThrows(IllegalArgumentException.class,
                        () -> d.start(entry("127.0.0.1:1", "inet", "-", "user=nobody", "argv=/bin/cat"),
                                FakeSnapshot.of("mail_owner", "nobody"))).getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> d.start(entry("scan", "fifo", "-", "user=nobody", "argv=/bin/cat"), c));
    }

    @Test
    void timeLimitParameters() {
        assertEquals(1000, SpawnSettings.timeLimit("scan", FakeSnapshot.of()));
        assertEquals(60, SpawnSettings.timeLimit("scan", FakeSnapshot.of("command_time_limit", "1m")));
        assertEquals(5, SpawnSettings.timeLimit("scan", FakeSnapshot.of("command_time_limit", "1m",
                "scan_time_limit", "5")));
        assertEquals("invalid scan_time_limit parameter value 0 < 1s", assertThrows(IllegalArgumentException.class,
                () -> SpawnSettings.timeLimit("scan", FakeSnapshot.of("scan_time_limit", "0"))).getMessage());
    }

    @Test
    void theEntrysOverridesApply() throws IOException {
        MasterEntry e = new MasterEntry("scan", "unix", "-", "n", "n", "-", "-", "spawn",
                Map.of("command_time_limit", "7s", "default_process_limit", "3", "export_environment", "A=b"),
                List.of("user=nobody:nogroup", "argv=cat", "-u"), "master.cf", 3);
        SpawnSettings s = SpawnSettings.from(e, FakeSnapshot.of("command_time_limit", "60s").forService(e));
        assertEquals(7, s.timeLimitSeconds());
        assertEquals(3, s.processLimit());
        assertEquals(Map.of("A", "b", "PATH", "/usr/bin:/bin"), s.environment());
        assertEquals(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--init-groups", "--",
                "/usr/bin/cat", "-u"), s.command());
        assertEquals("cat", s.argv0());
    }
}
