package org.estafeta.table.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.ProcessRunner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Configuration files Postfix refuses are refused with Postfix's text (compared with Debian's postmap, which
 * refuses them before it contacts any server), and the obsolete main.cf form of the parameters.
 */
class SqlConfigTest {
    @TempDir
    static Path dir;
    static PostfixPostmap postmap;
    static Path db;

    @BeforeAll
    static void setUp() throws Exception {
        postmap = new PostfixPostmap(dir);
        db = dir.resolve("t.sqlite");
        ProcessRunner.run(List.of(SqliteTableTest.SQLITE3, db.toString()), Map.of(),
                "CREATE TABLE t (k TEXT, v TEXT); INSERT INTO t VALUES ('k', 'v');", 30).ok();
    }

    /** Bodies Postfix refuses, whatever the type; the connection lines are added per type. */
    static final List<String> BAD = List.of(
            "query SELECT 1\n",
            "= x\n",
            "query = SELECT v FROM t WHERE k='%s'\nexpansion_limit = many\n",
            "query = SELECT v FROM t WHERE k='%x'\n",
            "query = SELECT v FROM t WHERE k='%s'\nresult_format = <%s%>\n",
            "query = SELECT v FROM t WHERE k='%s'\nresult_format =\n",
            "select_field = v\nwhere_field = k\n",
            "table = t\nwhere_field = k\n",
            "table = t\nselect_field = v\n");

    @Test
    void badFilesAreRefusedWithPostfixsText() throws Exception {
        Map<String, String> connection = Map.of(
                "sqlite", "dbpath = " + db + "\n",
                "pgsql", "hosts = 127.0.0.1:1\ndbname = x\n",
                "mysql", "hosts = 127.0.0.1:1\ndbname = x\n");
        Map<String, LookupTableFactory> factories = Map.of("sqlite", new SqliteTableFactory(),
                "pgsql", new PgsqlTableFactory(), "mysql", new MysqlTableFactory());
        List<String> tables = new ArrayList<>();
        int n = 0;
        for (String type : List.of("sqlite", "pgsql", "mysql")) {
            List<String> bodies = new ArrayList<>(BAD);
            // several errors: the first one Postfix reads is the one reported
            bodies.add("#raw\nquery = SELECT v FROM t WHERE k='%x'\nresult_format =\nexpansion_limit = x\n");
            if (!type.equals("sqlite")) {
                bodies.add("hosts = 127.0.0.1:1\nquery = SELECT 1\n"); // dbname is required
            }
            if (type.equals("mysql")) {
                bodies.add("hosts = inet:127.0.0.1:nosuchservice\ndbname = x\nquery = SELECT 1\n");
            }
            for (String body : bodies) {
                boolean raw = body.startsWith("#raw") || body.contains("hosts =");
                Path cf = PostfixPostmap.writeConfig(dir.resolve(type + "-bad-" + n++ + ".cf"),
                        (raw ? "" : connection.get(type)) + body);
                tables.add(type + ":" + cf);
            }
        }
        // postmap sleeps a second after each fatal error: ask it about all files at once
        ExecutorService pool = Executors.newFixedThreadPool(12);
        List<Future<PostfixPostmap.Answer>> answers = new ArrayList<>();
        for (String table : tables) {
            answers.add(pool.submit(() -> postmap.query("k", table)));
        }
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < tables.size(); i++) {
            String table = tables.get(i);
            String fatal = answers.get(i).get().stderr().lines().filter(l -> l.startsWith("postmap: fatal: "))
                    .findFirst().map(l -> l.substring("postmap: fatal: ".length())).orElse(null);
            String got;
            try {
                factories.get(table.substring(0, table.indexOf(':'))).open(TableSpec.parse(table),
                        new FakePluginContext()).close();
                got = "opened";
            } catch (TableOpenException e) {
                got = e.getMessage();
            }
            if (fatal == null || !got.equals(table + ": " + fatal)) {
                mismatches.add(table + ": postmap \"" + fatal + "\", estafeta \"" + got + "\"");
            }
        }
        pool.shutdown();
        assertEquals(List.of(), mismatches);
    }

    @Test
    void theObsoleteMainCfFormReadsPrefixedParameters() throws Exception {
        Map<String, String> mainCf = Map.of("sqlsource_dbpath", db.toString(),
                "sqlsource_query", "SELECT v FROM t WHERE k='%s'", "sqlsource_result_format", "got %s");
        FakePluginContext fake = new FakePluginContext();
        PluginContext context = new PluginContext() {
            @Override
            public System.Logger logger() {
                return fake.logger();
            }

            @Override
            public Optional<String> parameter(String name) {
                return Optional.ofNullable(mainCf.get(name));
            }

            @Override
            public Clock clock() {
                return fake.clock();
            }
        };
        try (LookupTable t = new SqliteTableFactory().open(TableSpec.parse("sqlite:sqlsource"), context)) {
            assertEquals(LookupResult.found("got v"), t.lookup("K"));
            assertEquals(LookupResult.notFound(), t.lookup("x"));
        }
        assertEquals(List.of(), fake.warnings);
        TableOpenException e = assertThrows(TableOpenException.class,
                () -> new SqliteTableFactory().open(TableSpec.parse("sqlite:other"), context));
        assertEquals("sqlite:other: other: bad string length 0 < 1: dbpath = ", e.getMessage());
    }
}
