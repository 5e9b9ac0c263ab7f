package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.estafeta.config.MasterEntry;
import org.estafeta.master.daemon.DaemonInstance;
import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The daemon with real sockets on 127.0.0.1. */
class SmtpdDaemonTest {
    private final RecordingLog log = new RecordingLog();
    private final List<Socket> sockets = new ArrayList<>();
    private SmtpdDaemon daemon;

    @BeforeEach
    void activate() {
        daemon = new SmtpdDaemon(log, 10_000);
        daemon.activate();
    }

    @AfterEach
    void deactivate() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        daemon.deactivate();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A client connection with a line reader; each read waits at most 5 s. */
    private final class Client implements AutoCloseable {
        final Socket socket;
        final BufferedReader in;
        final OutputStream out;

        Client(int port) throws IOException {
            socket = new Socket();
            sockets.add(socket);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(5000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
        }

        String read() throws IOException {
            return in.readLine();
        }

        void send(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String command(String line) throws IOException {
            send(line);
            return read();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void eventually(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void bindsGreetsAnswersQuitAndStops() throws Exception {
        int port = freePort();
        DaemonInstance instance = daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, "-"),
                Defaults.of("myhostname", "test.example", "smtpd_banner", "test.example ESMTP Estafeta"));
        assertEquals("smtpd listening on 127.0.0.1:" + port, instance.describe());
        try (Client c = new Client(port)) {
            assertEquals("220 test.example ESMTP Estafeta", c.read());
            assertEquals("250-test.example", c.command("EHLO client.example"));
            for (String word : List.of("PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
                    "SMTPUTF8")) {
                assertEquals("250-" + word, c.read());
            }
            assertEquals("250 CHUNKING", c.read());
            assertEquals("221 2.0.0 Bye", c.command("QUIT"));
            assertNull(c.read(), "server closes after QUIT");
        }
        eventually("disconnect logged", () -> log.lines.stream().anyMatch(l -> l.startsWith("info: disconnect")));
        assertEquals(List.of(
                "info: connect from unknown[127.0.0.1]",
                "info: disconnect from unknown[127.0.0.1] ehlo=1 quit=1 commands=2"), log.lines);
        instance.stop();
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
        assertEquals("smtpd stopped (was listening on 127.0.0.1:" + port + ")", instance.describe());
        // A reload stops the old instance and at once starts a new one on the same port.
        DaemonInstance again = daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, "-"), Defaults.of("myhostname", "new.example"));
        try (Client c = new Client(port)) {
            assertEquals("220 new.example ESMTP Estafeta", c.read());
        }
        again.stop();
    }

    @Test
    void barePortListensOnInetInterfaces() throws Exception {
        int port = freePort();
        DaemonInstance instance = daemon.start(FakeSnapshot.inet(String.valueOf(port), "-"),
                Defaults.of("myhostname", "test.example", "inet_interfaces", "loopback-only"));
        assertEquals("smtpd listening on 127.0.0.1:" + port, instance.describe());
        try (Client c = new Client(port)) {
            assertEquals("220 test.example ESMTP Estafeta", c.read());
        }
        instance.stop();
    }

    @Test
    void bindFailureNamesEntryAddressAndCause() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            MasterEntry entry = new MasterEntry(String.valueOf(port), "inet", "n", "-", "n", "-", "-", "smtpd",
                    Map.of(), List.of(), "/test/master.cf", 3);
            Exception e = assertThrows(Exception.class,
                    () -> daemon.start(entry, Defaults.of("inet_interfaces", "127.0.0.1")));
            assertEquals(port + "/inet 127.0.0.1:" + port + ": bind: Address already in use", e.getMessage());
        }
    }

    @Test
    void configurationErrorsNameTheEntry() {
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> daemon.start(FakeSnapshot.inet("smtpx", "-"), Defaults.of()));
        assertTrue(e.getMessage().startsWith("smtpx/inet: unknown service name \"smtpx\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> daemon.start(FakeSnapshot.inet("127.0.0.1:2525", "-"), Defaults.of("line_length_limit", "10")));
        assertEquals("127.0.0.1:2525/inet: invalid line_length_limit parameter value 10 < 512", e.getMessage());
        MasterEntry unix = new MasterEntry("smtpd", "unix", "n", "-", "n", "-", "-", "smtpd", Map.of(), List.of(), "m", 1);
        e = assertThrows(IllegalArgumentException.class, () -> daemon.start(unix, Defaults.of()));
        assertEquals("smtpd/unix: smtpd supports only inet entries (this one is unix)", e.getMessage());
    }

    @Test
    void refusesToStartOnAConfigurationThatWouldRelayForEveryone() throws Exception {
        Harness.FakeEngine engine = new Harness.FakeEngine();
        engine.configurationErrors = List.of("in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions,"
                + " specify at least one working instance of: reject_unauth_destination, defer_unauth_destination,"
                + " reject, defer, defer_if_permit or check_relay_domains");
        daemon.restrictions = engine;
        int port = freePort();
        Exception e = assertThrows(IllegalArgumentException.class,
                () -> daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, "-"), Defaults.of()));
        assertEquals("127.0.0.1:" + port + "/inet: fatal: " + engine.configurationErrors.get(0), e.getMessage());
        // nothing listens
        assertThrows(java.io.IOException.class, () -> new java.net.Socket("127.0.0.1", port).close());
        engine.configurationErrors = List.of();
        daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, "-"), Defaults.of()).stop();
    }

    @Test
    void stopClosesTheListenerAndLetsOpenSessionsFinish() throws Exception {
        int port = freePort();
        DaemonInstance instance = daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, "-"), Defaults.of("myhostname", "t.example"));
        Client c = new Client(port);
        assertEquals("220 t.example ESMTP Estafeta", c.read());
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(instance::stop);
        eventually("listener closed", () -> {
            try {
                new Socket("127.0.0.1", port).close();
                return false;
            } catch (IOException refused) {
                return true;
            }
        });
        assertFalse(stopping.isDone(), "stop() waits for the open session");
        assertEquals("250 2.0.0 Ok", c.command("NOOP"));
        long quitAt = System.nanoTime();
        assertEquals("221 2.0.0 Bye", c.command("QUIT"));
        stopping.get(5, TimeUnit.SECONDS);
        assertTrue(System.nanoTime() - quitAt < TimeUnit.SECONDS.toNanos(3), "stop() returned soon after the session ended");
    }

    @Test
    void stopWaitsOnlyAShortBoundedTime() throws Exception {
        daemon.deactivate();
        daemon = new SmtpdDaemon(log, 300);
        daemon.activate();
        int port = freePort();
        DaemonInstance instance = daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, "-"), Defaults.of("myhostname", "t.example"));
        Client c = new Client(port);
        assertEquals("220 t.example ESMTP Estafeta", c.read());
        long start = System.nanoTime();
        instance.stop();
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(took >= 250 && took < 3000, "stop took " + took + " ms");
    }

    @Test
    void maxprocMakesTheNextClientWaitForAFreeSlotAsPostfixMasterDoes() throws Exception {
        int port = freePort();
        SmtpdInstance instance = (SmtpdInstance) daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, "1"),
                Defaults.of("myhostname", "t.example"));
        Client first = new Client(port);
        assertEquals("220 t.example ESMTP Estafeta", first.read());
        Client second = new Client(port); // the TCP connection completes: it waits in the listen queue
        second.socket.setSoTimeout(700);
        assertThrows(SocketTimeoutException.class, second::read, "no greeting while the only slot is taken");
        assertEquals(1, instance.activeSessions());
        assertEquals("221 2.0.0 Bye", first.command("QUIT"));
        second.socket.setSoTimeout(5000);
        assertEquals("220 t.example ESMTP Estafeta", second.read());
        assertEquals("221 2.0.0 Bye", second.command("QUIT"));
        eventually("both sessions ended", () -> instance.activeSessions() == 0);
    }

    @Test
    void defaultProcessLimitAppliesWhenMaxprocIsADash() throws Exception {
        int port = freePort();
        SmtpdInstance instance = (SmtpdInstance) daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, "-"),
                Defaults.of("myhostname", "t.example", "default_process_limit", "2"));
        Client a = new Client(port);
        Client b = new Client(port);
        assertEquals("220 t.example ESMTP Estafeta", a.read());
        assertEquals("220 t.example ESMTP Estafeta", b.read());
        Client c = new Client(port);
        c.socket.setSoTimeout(700);
        assertThrows(SocketTimeoutException.class, c::read);
        a.close();
        c.socket.setSoTimeout(5000);
        assertEquals("220 t.example ESMTP Estafeta", c.read());
        eventually("two sessions", () -> instance.activeSessions() == 2);
    }

    @Test
    void idleClientIsDisconnectedAfterSmtpdTimeout() throws Exception {
        int port = freePort();
        daemon.start(FakeSnapshot.inet("127.0.0.1:" + port, "-"), Defaults.of("myhostname", "t.example", "smtpd_timeout", "1s"));
        try (Client c = new Client(port)) {
            assertEquals("220 t.example ESMTP Estafeta", c.read());
            long start = System.nanoTime();
            assertEquals("421 4.4.2 t.example Error: timeout exceeded", c.read());
            assertNull(c.read());
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(took >= 800 && took < 4000, "timeout after " + took + " ms");
        }
        eventually("timeout logged", () -> log.lines.contains("info: timeout after CONNECT from unknown[127.0.0.1]"));
    }

    @Test
    void deactivateStopsEveryInstanceWithOneCommonWait() throws Exception {
        daemon.deactivate();
        daemon = new SmtpdDaemon(log, 400);
        daemon.activate();
        int port1 = freePort();
        int port2 = freePort();
        daemon.start(FakeSnapshot.inet("127.0.0.1:" + port1, "-"), Defaults.of("myhostname", "t.example"));
        daemon.start(FakeSnapshot.inet("127.0.0.1:" + port2, "-"), Defaults.of("myhostname", "t.example"));
        Client c1 = new Client(port1);
        Client c2 = new Client(port2);
        assertEquals("220 t.example ESMTP Estafeta", c1.read());
        assertEquals("220 t.example ESMTP Estafeta", c2.read());
        long start = System.nanoTime();
        daemon.deactivate();
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(took >= 350 && took < 750, "deactivate took " + took + " ms (one wait of 400 ms, not one per instance)");
        assertNull(c1.read(), "open sessions end when the component goes away");
        assertNull(c2.read());
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port1).close());
        assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port2).close());
        daemon = new SmtpdDaemon(log, 100);
        daemon.activate();
    }
}
