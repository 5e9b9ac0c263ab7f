package org.estafeta.table.socketmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** socketmap: against a socketmap server in the test: protocol, errors, limits, connection reuse and recovery. */
class SocketmapTableTest {
    static final Limits SHORT = new Limits(Duration.ofMillis(500), 1000, Duration.ofSeconds(10),
            Duration.ofSeconds(100), 4);

    @TempDir
    Path dir;
    final FakePluginContext context = new FakePluginContext();

    private LookupTable open(String spec, Limits limits) throws TableOpenException {
        return new SocketmapTableFactory(limits).open(TableSpec.parse(spec), context);
    }

    @Test
    void answersOverTcpAndReusesOneConnection() throws Exception {
        try (var server = TestSocketmapServer.inet(TestSocketmapServer.map("users",
                Map.of("alice", "alice@example.com", "Bob", "OK with spaces ", "ü", "ümlaut")));
                LookupTable t = open("socketmap:inet:127.0.0.1:" + server.port() + ":users", Limits.POSTFIX)) {
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("alice"));
            assertEquals(LookupResult.notFound(), t.lookup("ALICE"), "keys are sent as given, not folded");
            assertEquals(LookupResult.found("OK with spaces "), t.lookup("Bob"));
            assertEquals(LookupResult.found("ümlaut"), t.lookup("ü"), "UTF-8 both ways, lengths in bytes");
            assertEquals(LookupResult.notFound(), t.lookup("a key with spaces"));
            assertEquals(List.of("users alice", "users ALICE", "users Bob", "users ü", "users a key with spaces"),
                    server.received);
            assertEquals(1, server.connections.get(), "one connection for every lookup");
        }
        assertEquals(List.of(), context.warnings);
    }

    @Test
    void answersOverAUnixSocketNamedByTheLastColon() throws Exception {
        Path sock = dir.resolve("map.sock");
        try (var server = TestSocketmapServer.unix(sock, TestSocketmapServer.map("virtual", Map.of("k", "v")));
                LookupTable t = open("socketmap:unix:" + sock + ":virtual", SHORT)) {
            assertEquals(LookupResult.found("v"), t.lookup("k"));
            assertEquals(LookupResult.notFound(), t.lookup("x"));
        }
    }

    @Test
    void serverErrorsAreTemporaryFailuresLoggedInPostfixWords() throws Exception {
        try (var server = TestSocketmapServer.inet(req -> switch (req.substring(2)) {
            case "t" -> "TEMP db down";
            case "to" -> "TIMEOUT slow";
            case "p" -> "PERM no such map";
            case "u" -> "WHAT x";
            case "c" -> "TEMP  a\tb";
            case "bare" -> "TEMP";
            case "ok" -> "OK";
            case "e" -> "OK ";
            case "nf" -> "NOTFOUND";
            default -> "NOTFOUND ";
        })) {
            String spec = "socketmap:inet:127.0.0.1:" + server.port() + ":m";
            try (LookupTable t = open(spec, SHORT)) {
                for (String[] c : new String[][] {{"t", "temporary error: db down"}, {"to", "timeout error: slow"},
                        {"p", "permanent error: no such map"}, {"u", "unknown error: x"}, {"c", "temporary error: a?b"},
                        {"bare", "temporary error"}}) {
                    var r = assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup(c[0]), c[0]);
                    assertEquals(spec + " socketmap server " + c[1], r.reason());
                }
                assertEquals(LookupResult.notFound(), t.lookup("ok"), "OK without a space carries no value");
                assertEquals(LookupResult.found(""), t.lookup("e"));
                assertEquals(LookupResult.notFound(), t.lookup("nf"));
                assertEquals(1, server.connections.get(), "error replies keep the connection");
            }
            assertEquals(spec + " socketmap server permanent error: no such map", context.warnings.get(2));
        }
    }

    @Test
    void malformedAndOversizedRepliesAreTemporaryFailures() throws Exception {
        try (var server = TestSocketmapServer.inet(req -> switch (req.substring(2)) {
            case "big" -> "OK " + "x".repeat(1000);
            case "fmt" -> "RAW:3:OK x,";
            case "comma" -> "RAW:4:OK xX";
            default -> "OK fine";
        })) {
            String spec = "socketmap:inet:127.0.0.1:" + server.port() + ":m";
            try (LookupTable t = open(spec, SHORT)) {
                assertEquals(LookupResult.found("fine"), t.lookup("a"));
                var r = assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("big"));
                assertEquals(spec + ": lookup error: input exceeds size limit", r.reason());
                r = assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("fmt"));
                assertEquals(spec + ": lookup error: input format error", r.reason());
                r = assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("comma"));
                assertEquals(spec + ": lookup error: input format error", r.reason());
                assertEquals(LookupResult.found("fine"), t.lookup("a"), "a new connection after a broken reply");
            }
            assertEquals("table " + spec + " lookup error: input exceeds size limit", context.warnings.get(0));
        }
    }

    @Test
    void aSilentServerTimesOutWithinTheLimitAndIsNotRetried() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (var server = TestSocketmapServer.inet(req -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "OK late";
        })) {
            String spec = "socketmap:inet:127.0.0.1:" + server.port() + ":m";
            try (LookupTable t = open(spec, SHORT)) {
                long start = System.nanoTime();
                var r = assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("k"));
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertEquals(spec + ": lookup error: time limit exceeded", r.reason());
                assertTrue(ms >= 450 && ms < 3000, ms + " ms");
                assertEquals(1, server.requests.get(), "a timeout is not retried");
            } finally {
                release.countDown();
            }
        }
    }

    @Test
    void aServerThatHangsUpIsReconnectedOnceTransparently() throws Exception {
        try (var server = TestSocketmapServer.inet(TestSocketmapServer.map("m", Map.of("k", "v")))) {
            String spec = "socketmap:inet:127.0.0.1:" + server.port() + ":m";
            try (LookupTable t = open(spec, SHORT)) {
                assertEquals(LookupResult.found("v"), t.lookup("k"));
                server.dropConnections(); // a server restart: the idle connection is dead
                Thread.sleep(50);
                assertEquals(LookupResult.found("v"), t.lookup("k"));
                server.repliesPerConnection = 1; // closes after every reply, even before reading the next request
                for (int i = 0; i < 5; i++) {
                    assertEquals(LookupResult.found("v"), t.lookup("k"));
                }
                server.answer = req -> null; // hangs up on every request: retried once, then an error
                var r = assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("k"));
                assertEquals(spec + ": lookup error: unexpected disconnect", r.reason());
            }
            assertEquals(List.of("table " + spec + " lookup error: unexpected disconnect"), context.warnings);
        }
    }

    @Test
    void connectionFailuresAreTemporaryFailures() throws Exception {
        String spec;
        try (var server = TestSocketmapServer.inet(req -> "OK x")) {
            spec = "socketmap:inet:127.0.0.1:" + server.port() + ":m";
        }
        try (LookupTable t = open(spec, SHORT)) {
            var r = assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("k"));
            assertTrue(r.reason().startsWith(spec + ": connect to 127.0.0.1:"), r.reason());
            assertTrue(r.reason().endsWith("Connection refused"), r.reason());
        }
        assertTrue(context.warnings.get(1).startsWith("table " + spec + " lookup error: "), context.warnings.toString());
        try (LookupTable t = open("socketmap:unix:" + dir.resolve("none") + ":m", SHORT)) {
            assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("k"));
        }
    }

    @Test
    void concurrentLookupsUseSeveralConnectionsAndKeepABoundedFew() throws Exception {
        CountDownLatch together = new CountDownLatch(8);
        try (var server = TestSocketmapServer.inet(req -> {
            together.countDown();
            try {
                together.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "OK " + req.substring(2);
        }); var t = (SocketmapTable) open("socketmap:inet:127.0.0.1:" + server.port() + ":m", SHORT)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<LookupResult>> results = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    String key = "k" + i;
                    results.add(pool.submit(() -> t.lookup(key)));
                }
                for (int i = 0; i < 8; i++) {
                    assertEquals(LookupResult.found("k" + i), results.get(i).get(10, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(8, server.connections.get());
            assertEquals(SHORT.maxIdleConnections(), t.idleConnections(), "only a bounded few are kept");
        }
    }

    @Test
    void idleAndOldConnectionsAreReplaced() throws Exception {
        Limits quick = new Limits(Duration.ofSeconds(2), 1000, Duration.ofMillis(100), Duration.ofSeconds(100), 4);
        try (var server = TestSocketmapServer.inet(TestSocketmapServer.map("m", Map.of("k", "v")));
                LookupTable t = open("socketmap:inet:127.0.0.1:" + server.port() + ":m", quick)) {
            assertEquals(LookupResult.found("v"), t.lookup("k"));
            Thread.sleep(250);
            assertEquals(LookupResult.found("v"), t.lookup("k"));
            assertEquals(2, server.connections.get(), "the idle connection was closed, a new one opened");
        }
    }

    @Test
    void closeClosesTheKeptConnections() throws Exception {
        try (var server = TestSocketmapServer.inet(TestSocketmapServer.map("m", Map.of("k", "v")))) {
            var t = (SocketmapTable) open("socketmap:inet:127.0.0.1:" + server.port() + ":m", SHORT);
            assertEquals(LookupResult.found("v"), t.lookup("k"));
            assertEquals(1, t.idleConnections());
            t.close();
            assertEquals(0, t.idleConnections());
            assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("k"));
            assertEquals(1, server.requests.get(), "nothing is sent after close");
        }
    }

    @Test
    void badNamesAreRefusedWithPostfixTexts() {
        for (String[] c : new String[][] {
                {"socketmap:foo", "socketmap requires server:socketmap argument"},
                {"socketmap:bogus:x:m", "invalid transport name: bogus in service: bogus:x"},
                {"socketmap:inet:m", "need service transport:endpoint instead of \"inet\""},
                {"socketmap:inet:127.0.0.1:http:m", "host/service syntax error: 127.0.0.1:http"}}) {
            var e = assertThrows(TableOpenException.class, () -> open(c[0], SHORT), c[0]);
            assertTrue(e.getMessage().startsWith(c[0] + ": " + c[1]), e.getMessage());
        }
    }
}
