package org.estafeta.table.socketmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Postmap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * socketmap: beside Debian's {@code postmap -q KEY socketmap:...}, both asking the same socketmap server (run in
 * this test, over TCP on 127.0.0.1 and over a UNIX socket): the same values, the same "not found", a lookup
 * error where postmap has one, with Postfix's warning text; and the same refusals of malformed names.
 */
class SocketmapPostmapDifferentialTest {
    @TempDir
    Path dir;

    static final Map<String, String> REPLIES = new LinkedHashMap<>();

    static {
        REPLIES.put("a", "OK 1");
        REPLIES.put("user@example.com", "OK smtp:[relay.example.com]:587");
        REPLIES.put("User@Example.COM", "OK mixed case key");
        REPLIES.put("spaces", "OK  two  spaces ");
        REPLIES.put("t", "TEMP db down");
        REPLIES.put("p", "PERM no such map");
        REPLIES.put("to", "TIMEOUT slow");
        REPLIES.put("u", "WHAT x");
        REPLIES.put("ctl", "TEMP  a\tb");
        REPLIES.put("bare", "TEMP");
        REPLIES.put("ok", "OK");
        REPLIES.put("e", "OK ");
        REPLIES.put("nf", "NOTFOUND");
        REPLIES.put("big", "OK " + "x".repeat(100_001));
        REPLIES.put("long", "OK " + "y".repeat(99_997));
    }

    static final List<String> KEYS = List.of("a", "A", "user@example.com", "USER@EXAMPLE.COM", "User@Example.COM",
            "spaces", "t", "p", "to", "u", "ctl", "bare", "ok", "e", "nf", "big", "long", "absent");

    private static String answer(String request) {
        String key = request.substring(request.indexOf(' ') + 1);
        if (!request.startsWith("mymap ")) {
            return "PERM unknown map";
        }
        return REPLIES.getOrDefault(key, "NOTFOUND ");
    }

    @Test
    void answersAsPostmapOverTcp() throws Exception {
        Postmap.require();
        try (var server = TestSocketmapServer.inet(SocketmapPostmapDifferentialTest::answer)) {
            compare("socketmap:inet:127.0.0.1:" + server.port() + ":mymap", KEYS);
        }
    }

    @Test
    void answersAsPostmapOverAUnixSocket() throws Exception {
        Postmap.require();
        Path sock = dir.resolve("sm.sock");
        try (var server = TestSocketmapServer.unix(sock, SocketmapPostmapDifferentialTest::answer)) {
            compare("socketmap:unix:" + sock + ":mymap", KEYS);
            // a map name the server does not know: PERM from the server, a lookup error for both
            compare("socketmap:unix:" + sock + ":other", List.of("a", "absent"));
        }
    }

    @Test
    void anAbsentServerIsALookupErrorForBoth() throws Exception {
        Postmap.require();
        compare("socketmap:unix:" + dir.resolve("nobody-listens") + ":mymap", List.of("a", "absent"));
    }

    @Test
    void namesPostfixRefusesAreRefusedWithItsText() throws Exception {
        Postmap.require();
        List<String> tables = List.of("socketmap:foo", "socketmap:bogus:x:m", "socketmap:inet:m");
        List<Future<Postmap.Answer>> answers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            for (String table : tables) {
                answers.add(pool.submit(() -> Postmap.query("a", table)));
            }
        } finally {
            pool.shutdown();
        }
        for (int i = 0; i < tables.size(); i++) {
            String table = tables.get(i);
            Postmap.Answer want = answers.get(i).get(60, TimeUnit.SECONDS);
            assertNotNull(want.fatal(), table + ": postmap accepted it");
            try {
                new SocketmapTableFactory().open(TableSpec.parse(table), new FakePluginContext());
                fail(table + ": opened, but postmap says: " + want.fatal());
            } catch (TableOpenException e) {
                assertEquals(table + ": " + want.fatal(), e.getMessage());
            }
        }
    }

    /**
     * Compares every key of {@code keys}. postmap runs in parallel (a fatal error costs it a one-second sleep
     * before it exits, as every Postfix program), our lookups one after the other.
     */
    private void compare(String table, List<String> keys) throws Exception {
        Map<String, Postmap.Answer> answers = new LinkedHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            Map<String, Future<Postmap.Answer>> pending = new LinkedHashMap<>();
            for (String key : keys) {
                pending.put(key, pool.submit(() -> Postmap.query(key, table)));
            }
            for (var e : pending.entrySet()) {
                answers.put(e.getKey(), e.getValue().get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        FakePluginContext context = new FakePluginContext();
        List<String> mismatches = new ArrayList<>();
        int found = 0;
        int errors = 0;
        try (LookupTable t = new SocketmapTableFactory().open(TableSpec.parse(table), context)) {
            for (String key : keys) {
                Postmap.Answer want = answers.get(key);
                int before = context.warnings.size();
                LookupResult got = t.lookup(key);
                List<String> ours = context.warnings.subList(before, context.warnings.size());
                if (want.fatal() != null) {
                    errors++;
                    if (!(got instanceof LookupResult.TemporaryFailure)) {
                        mismatches.add(key + ": postmap: error (" + want.fatal() + "), estafeta " + got);
                    } else if (!ours.equals(want.warnings())) {
                        mismatches.add(key + ": postmap warns " + want.warnings() + ", estafeta warns " + ours);
                    }
                    continue;
                }
                LookupResult expected = want.value() == null ? LookupResult.notFound()
                        : LookupResult.found(want.value());
                if (!expected.equals(got)) {
                    mismatches.add(key + ": postmap " + expected + ", estafeta " + got);
                }
                found += want.value() == null ? 0 : 1;
            }
        }
        assertEquals(List.of(), mismatches, table);
        assertTrue(errors > 0, "no lookup errors compared");
        if (table.endsWith(":mymap") && !table.contains("nobody-listens")) {
            assertTrue(found >= 6, "found " + found);
            assertEquals(7, errors, "TEMP, PERM, TIMEOUT, unknown (3 forms) and the oversized reply");
        }
    }
}
