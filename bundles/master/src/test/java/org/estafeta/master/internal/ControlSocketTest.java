package org.estafeta.master.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigWarning;
import org.estafeta.config.MasterEntry;
import org.estafeta.tables.TableService;
import org.estafeta.tables.UnsupportedTableTypeException;
import org.estafeta.testing.FakeSnapshot;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket protocol, end to end over a real Unix-domain socket. */
class ControlSocketTest {
    @TempDir
    Path queue;

    private final RecordingLogger log = new RecordingLogger("master");
    private final Supervisor supervisor = new Supervisor(log, 5_000);
    private FakeSnapshot.Source config;
    private FakeTables tables = new FakeTables();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private ControlServer server;
    private Path socket;

    private static final MasterEntry SMTP = FakeSnapshot.entry("127.0.0.1:2525", "inet", "smtpd", Map.of());
    private static final MasterEntry PICKUP = FakeSnapshot.entry("pickup", "unix", "pickup", Map.of());

    /** A TableService with one type, "fake", whose table maps k to v, "tmp" to a temporary failure. */
    static final class FakeTables implements TableService {
        volatile Set<String> types = Set.of("fake");
        final List<String> closed = new ArrayList<>();

        @Override
        public LookupTable open(String spec) throws TableOpenException {
            String type = spec.substring(0, Math.max(spec.indexOf(':'), 0));
            if (!types.contains(type)) {
                throw new UnsupportedTableTypeException(type);
            }
            if (spec.endsWith(":/missing")) {
                throw new TableOpenException(spec + ": No such file or directory");
            }
            return new LookupTable() {
                @Override
                public LookupResult lookup(String key) {
                    if (key.equals("tmp")) {
                        return LookupResult.temporaryFailure("server down");
                    }
                    return key.startsWith("k") ? LookupResult.found("v for " + key) : LookupResult.notFound();
                }

                @Override
                public void close() {
                    synchronized (closed) {
                        closed.add(spec);
                    }
                }
            };
        }

        @Override
        public Set<String> types() {
            return types;
        }

        @Override
        public List<String> problems(ConfigSnapshot snapshot) {
            return snapshot.get("transport_maps").filter(v -> !types.contains(v.substring(0, v.indexOf(':'))))
                    .map(v -> List.of("main.cf: transport_maps: "
                            + UnsupportedTableTypeException.message(v.substring(0, v.indexOf(':')))))
                    .orElse(List.of());
        }
    }

    volatile java.nio.file.Path queueStore;

    @Test
    void queueCommandsWorkOnTheQueueAndSeparateOutputFromDiagnostics() throws Exception {
        List<String> none = ask("postqueue -p");
        assertEquals("exit 69", none.get(none.size() - 1), none.toString());
        assertTrue(none.get(0).startsWith("2 postqueue: fatal: the queue is not available"), none.toString());

        java.nio.file.Path q = queue.resolve("spool");
        org.estafeta.queue.FileQueueStore store = new org.estafeta.queue.FileQueueStore(q);
        queueStore = q;
        org.estafeta.queue.QueueStore.Writer w = store.create(new org.estafeta.queue.Envelope(1_764_000_000_000_000L,
                "s@example.org", Map.of(), List.of(new org.estafeta.queue.Envelope.Recipient("r@example.net",
                        List.of(), Optional.empty(), org.estafeta.queue.Envelope.Status.PENDING)),
                new org.estafeta.queue.Envelope.Client("", "", "", "SMTP"), List.of()));
        w.write(new byte[] {'x'}, 0, 1);
        w.commit(org.estafeta.queue.QueueName.INCOMING);
        List<String> list = ask("postqueue -p");
        assertTrue(list.get(1).startsWith("1 " + w.id() + " "), list.toString());
        assertEquals(List.of("2 postsuper: " + w.id() + ": placed on hold", "2 postsuper: Placed on hold: 1 message",
                "exit 0"), ask("postsuper -h " + w.id()));
        assertEquals(List.of(w.id()), store.list(org.estafeta.queue.QueueName.HOLD));
        assertEquals(List.of("2 postsuper: Deleted: 1 message", "exit 0"), ask("postsuper -d ALL"));
        assertEquals(List.of("1 Mail queue is empty", "exit 0"), ask("postqueue -p"));
    }

    private final ControlCommands.Master master = new ControlCommands.Master() {
        @Override
        public long pid() {
            return 4242;
        }

        @Override
        public ConfigSnapshot current() {
            return config.current();
        }

        @Override
        public ConfigSnapshot reload() throws ConfigException {
            return config.reload();
        }

        @Override
        public void settle() {
            supervisor.settle();
        }

        @Override
        public List<Supervisor.EntryStatus> entries() {
            return supervisor.status();
        }

        @Override
        public Optional<TableService> tables() {
            return Optional.ofNullable(tables);
        }

        @Override
        public List<Plugins.BundleInfo> bundles() {
            return List.of(new Plugins.BundleInfo(0, "ACTIVE", "org.apache.felix.framework", "7.0.5", List.of()),
                    new Plugins.BundleInfo(12, "ACTIVE", "org.estafeta.plugin.json-table", "0.1.0.SNAPSHOT",
                            List.of(new Plugins.ServiceInfo(List.of("org.estafeta.api.table.LookupTableFactory"),
                                    Map.of("estafeta.table.type", "json")))));
        }

        @Override
        public Optional<java.nio.file.Path> queueDirectory() {
            return Optional.ofNullable(queueStore);
        }

        @Override
        public void stopFramework() {
            stopped.countDown();
        }
    };

    @BeforeEach
    void start() throws Exception {
        config = new FakeSnapshot.Source(new FakeSnapshot(Map.of(), List.of(SMTP, PICKUP), 1));
        config.addListener(supervisor::configure);
        supervisor.configure(config.current());
        socket = queue.resolve("private/control");
        server = new ControlServer(socket, new ControlCommands(master), log, 2_000);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
        supervisor.shutdown();
    }

    /** Sends one request; returns the lines of the answer, the last being "exit N". */
    private List<String> ask(String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
            return readAll(ch);
        }
    }

    private static List<String> readAll(SocketChannel ch) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(1024);
        while (ch.read(buf) >= 0) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.endsWith("\n"), text);
        return Arrays.asList(text.substring(0, text.length() - 1).split("\n", -1));
    }

    @Test
    void socketLivesInAPrivateDirectory() throws Exception {
        assertTrue(Files.exists(socket));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
    }

    @Test
    void statusWhileStartingThenRunningThenFailed() throws Exception {
        supervisor.settle();
        assertEquals(List.of("the Estafeta mail system is running: PID: 4242",
                "127.0.0.1:2525/inet: waiting for a bundle that registers estafeta.daemon=smtpd",
                "pickup/unix: waiting for a bundle that registers estafeta.daemon=pickup",
                "exit 2"), ask("status"));

        var smtpd = new FakeDaemon("smtpd");
        supervisor.daemonAdded("smtpd", smtpd, 1, 0);
        supervisor.settle();
        List<String> running = ask("status");
        assertEquals("127.0.0.1:2525/inet: smtpd listening on 127.0.0.1:2525", running.get(1));
        assertEquals("exit 0", running.get(running.size() - 1));

        supervisor.daemonRemoved(smtpd);
        smtpd.refuse = "127.0.0.1:2525";
        supervisor.daemonAdded("smtpd", smtpd, 2, 0);
        supervisor.settle();
        List<String> failed = ask("status");
        assertEquals("127.0.0.1:2525/inet: failed: 127.0.0.1:2525: Address already in use", failed.get(1));
        assertEquals("exit 1", failed.get(failed.size() - 1));
    }

    @Test
    void statusShowsConfigurationProblems() throws Exception {
        var snap = new FakeSnapshot(Map.of("transport_maps", "json:/etc/transport.json"), List.of(), 2);
        snap.warnings = List.of(new ConfigWarning("/etc/estafeta/main.cf", 3, "unused parameter: foo=bar"));
        config.publish(snap);
        supervisor.settle();
        assertEquals(List.of("the Estafeta mail system is running: PID: 4242",
                "error: main.cf: transport_maps: unsupported dictionary type: json: "
                        + "no installed bundle registers estafeta.table.type=json",
                "warning: /etc/estafeta/main.cf, line 3: unused parameter: foo=bar",
                "exit 0"), ask("status"));
        tables.types = Set.of("json");
        assertEquals(List.of("the Estafeta mail system is running: PID: 4242",
                "warning: /etc/estafeta/main.cf, line 3: unused parameter: foo=bar",
                "exit 0"), ask("status"));
    }

    @Test
    void reloadAppliesTheNewConfigurationBeforeAnswering() throws Exception {
        var smtpd = new FakeDaemon("smtpd");
        supervisor.daemonAdded("smtpd", smtpd, 1, 0);
        MasterEntry other = FakeSnapshot.entry("127.0.0.1:2526", "inet", "smtpd", Map.of());
        config.nextReload = new FakeSnapshot(Map.of(), List.of(other), 7);
        assertEquals(List.of("reloaded configuration /etc/estafeta (generation 7)", "exit 0"), ask("reload"));
        assertEquals(List.of("start 127.0.0.1:2525/inet", "stop 127.0.0.1:2525/inet", "start 127.0.0.1:2526/inet"),
                smtpd.takeEvents());
    }

    @Test
    void brokenReloadKeepsThePreviousConfiguration() throws Exception {
        config.reloadError = new ConfigException("/etc/estafeta/main.cf", 7, "missing '=' after attribute name: \"foo\"");
        assertEquals(List.of("error: /etc/estafeta/main.cf, line 7: missing '=' after attribute name: \"foo\"",
                "keeping the previous configuration", "exit 1"), ask("reload"));
        assertEquals(1, config.current().generation());
    }

    @Test
    void pluginsListsBundlesAndTheirEstafetaServices() throws Exception {
        assertEquals(List.of("0 ACTIVE org.apache.felix.framework 7.0.5",
                "12 ACTIVE org.estafeta.plugin.json-table 0.1.0.SNAPSHOT",
                "    estafeta.table.type=json (org.estafeta.api.table.LookupTableFactory)",
                "exit 0"), ask("plugins"));
    }

    @Test
    void lookupAnswersAsPostmap() throws Exception {
        assertEquals(List.of("v for k1", "exit 0"), ask("lookup k1 fake:/etc/t"));
        assertEquals(List.of("v for k with spaces", "exit 0"), ask("lookup k with spaces fake:/etc/t"));
        // a table with spaces, a composite as main.cf writes it, reaches the table service whole (this test's fake
        // service has no composites)
        assertEquals(List.of("error: unionmap:{ fake:/etc/t, json:/x }: unsupported dictionary type: unionmap: "
                + "no installed bundle registers estafeta.table.type=unionmap", "exit 1"),
                ask("lookup k1 unionmap:{ fake:/etc/t, json:/x }"));
        assertEquals(List.of("exit 1"), ask("lookup nothere fake:/etc/t"));
        assertEquals(List.of("fake:/etc/t: temporary failure: server down", "exit 2"), ask("lookup tmp fake:/etc/t"));
        assertEquals(List.of("fake:/missing: temporary failure: fake:/missing: No such file or directory", "exit 2"),
                ask("lookup k fake:/missing"));
        assertEquals(List.of("error: json:/etc/t.json: unsupported dictionary type: json: "
                + "no installed bundle registers estafeta.table.type=json", "exit 1"), ask("lookup k json:/etc/t.json"));
        assertEquals(List.of("usage: lookup KEY TYPE:NAME", "exit 1"), ask("lookup onlyonearg"));
        synchronized (tables.closed) {
            assertEquals(4, tables.closed.size(), "every opened table is closed after the lookup: " + tables.closed);
        }
        tables = null;
        List<String> none = ask("lookup k fake:/etc/t");
        assertTrue(none.get(0).contains("no TableService"), none.toString());
        assertEquals("exit 1", none.get(1));
    }

    @Test
    void stopAnswersThenStops() throws Exception {
        assertEquals(List.of("stopping", "exit 0"), ask("stop"));
        assertTrue(stopped.await(5, TimeUnit.SECONDS));
    }

    @Test
    void unknownAndMalformedRequests() throws Exception {
        List<String> unknown = ask("frobnicate");
        assertTrue(unknown.get(0).startsWith("error: unknown request: frobnicate"), unknown.toString());
        assertEquals("exit 1", unknown.get(1));
        assertEquals(List.of("usage: status", "exit 1"), ask("status now"));
        assertEquals(1, stopped.getCount(), "stop with arguments did not stop");
        assertEquals(List.of("usage: stop", "exit 1"), ask("stop now"));
        assertEquals(1, stopped.getCount());
        // a request without its newline, followed by the client closing its side, is still answered
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap("plugins".getBytes(StandardCharsets.UTF_8)));
            ch.shutdownOutput();
            List<String> lines = readAll(ch);
            assertEquals("exit 0", lines.get(lines.size() - 1));
        }
    }

    @Test
    void overlongRequestIsRefused() throws Exception {
        List<String> lines = ask("x".repeat(ControlServer.MAX_REQUEST + 10));
        assertEquals(List.of("error: request longer than 4096 bytes", "exit 1"), lines);
    }

    @Test
    void silentClientIsDisconnected() throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            long t0 = System.nanoTime();
            ByteBuffer buf = ByteBuffer.allocate(16);
            assertEquals(-1, ch.read(buf), "closed without an answer");
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        }
        assertEquals("exit 0", ask("plugins").get(3), "the server still answers others");
    }

    @Test
    void closeRemovesTheSocketAndAStaleOneIsReplaced() throws Exception {
        server.close();
        assertFalse(Files.exists(socket));
        Files.writeString(socket, "stale");
        server = new ControlServer(socket, new ControlCommands(master), log, 2_000);
        server.start();
        assertEquals("exit 0", ask("plugins").get(3));
    }
}
