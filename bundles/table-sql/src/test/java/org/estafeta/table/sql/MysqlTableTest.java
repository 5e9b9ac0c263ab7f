package org.estafeta.table.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.PrivateMariadb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mysql: tables side by side with Debian's {@code postmap -q KEY mysql:FILE} (postfix-mysql), on a private MariaDB. */
class MysqlTableTest {
    static final String READER = "reader";
    static final String READER_PASSWORD = "r3ad'er\\pw";

    @TempDir
    static Path dir;
    static PrivateMariadb db;
    static PostfixPostmap postmap;
    static String connection;

    @BeforeAll
    static void server() throws Exception {
        db = PrivateMariadb.create();
        db.sql("CREATE DATABASE mail; USE mail;\n" + SqlCorpus.schema("\\\\")
                + "CREATE USER '" + READER + "'@'%' IDENTIFIED BY '" + READER_PASSWORD.replace("\\", "\\\\")
                        .replace("'", "\\'") + "';\nGRANT SELECT ON mail.* TO '" + READER + "'@'%';\n");
        postmap = new PostfixPostmap(dir);
        connection = "hosts = inet:127.0.0.1:" + db.port() + "\nuser = " + READER + "\npassword = " + READER_PASSWORD
                + "\ndbname = mail\n";
    }

    @AfterAll
    static void stop() {
        if (db != null) {
            db.close();
        }
    }

    @Test
    void answersAsPostmapForEveryKeyAndConfiguration() throws Exception {
        Map<String, Path> configs = SqlCorpus.write(dir, connection, SqlCorpus.sqliteDomains(dir));
        MysqlTableFactory factory = new MysqlTableFactory();
        factory.tableTypes(type -> type.equals("sqlite") ? new SqliteTableFactory() : null);
        SqlCorpus.compare(postmap, factory, "mysql", configs);
        assertEquals("14", db.sql("SELECT count(*) FROM mail.aliases;").trim(), "the attacks changed nothing");
    }

    @Test
    void escapingFollowsNoBackslashEscapesAsTheCClientDoes() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("nbe.cf"),
                connection + "query = SELECT goto FROM aliases WHERE address='%s'\n");
        String table = "mysql:" + cf;
        db.sql("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES');");
        try (LookupTable t = new MysqlTableFactory().open(TableSpec.parse(table), new FakePluginContext())) {
            List<String> mismatches = new ArrayList<>();
            for (String key : SqlCorpus.KEYS) {
                LookupResult want = postmap.query(key, table).result();
                LookupResult got = t.lookup(key);
                if (!PostfixPostmap.agree(want, got)) {
                    mismatches.add("key \"" + key + "\": postmap " + want + ", estafeta " + got);
                }
            }
            assertEquals(List.of(), mismatches);
            assertEquals(LookupResult.found("backslash-found"), t.lookup("back\\slash"));
            assertEquals(LookupResult.found("quoted-bare"), t.lookup("a'b"));
        } finally {
            db.sql("SET GLOBAL sql_mode = REPLACE(@@GLOBAL.sql_mode, 'NO_BACKSLASH_ESCAPES', '');");
        }
        assertEquals("14", db.sql("SELECT count(*) FROM mail.aliases;").trim());
    }

    @Test
    void unixSocketsWork() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("unix.cf"), connection.replaceFirst("hosts = .*\n",
                "hosts = unix:" + db.socket() + "\n") + "query = SELECT goto FROM aliases WHERE address='%s'\n");
        try (LookupTable t = new MysqlTableFactory().open(TableSpec.parse("mysql:" + cf), new FakePluginContext())) {
            for (String key : List.of("info@example.com", "multi@example.com", "nobody@example.com", "a'b")) {
                assertEquals(postmap.query(key, "mysql:" + cf).result(), t.lookup(key), key);
            }
            assertEquals(LookupResult.found("a@example.com,b@example.com"), t.lookup("multi@example.com"));
        }
    }

    @Test
    void aStoppedServerIsATemporaryFailureAndTheTableRecoversWhenItIsBack() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("restart.cf"),
                connection + "query = SELECT goto FROM aliases WHERE address='%s'\n");
        String table = "mysql:" + cf;
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = new MysqlTableFactory().open(TableSpec.parse(table), context)) {
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            db.stop();
            try {
                LookupResult down = t.lookup("info@example.com");
                assertInstanceOf(LookupResult.TemporaryFailure.class, down);
                assertTrue(((LookupResult.TemporaryFailure) down).reason().startsWith(table + ": "), down.toString());
                assertTrue(context.warnings.stream().anyMatch(w -> w.startsWith(table + ": connect to mysql server")),
                        context.warnings.toString());
                PostfixPostmap.Answer postfix = postmap.query("info@example.com", table);
                assertInstanceOf(LookupResult.TemporaryFailure.class, postfix.result());
                assertTrue(postfix.stderr().contains("warning: connect to mysql server"), postfix.stderr());
                assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("nobody@example.com"),
                        "never \"not found\" while the server is down");
            } finally {
                db.start();
            }
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            assertEquals(LookupResult.notFound(), t.lookup("nobody@example.com"));
        }
    }

    @Test
    void aRestartedServerIsUsedAgainWithoutAWarningForTheStaleConnection() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("stale.cf"),
                connection + "query = SELECT goto FROM aliases WHERE address='%s'\n");
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = new MysqlTableFactory().open(TableSpec.parse("mysql:" + cf), context)) {
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            db.stop();
            db.start();
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            assertEquals(List.of(), context.warnings);
        }
    }

    @Test
    void aRefusedLoginIsATemporaryFailureAsInPostfix() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("badpw.cf"), connection.replace(READER_PASSWORD, "wrong")
                + "query = SELECT goto FROM aliases WHERE address='%s'\n");
        String table = "mysql:" + cf;
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = new MysqlTableFactory().open(TableSpec.parse(table), context)) {
            assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("info@example.com"));
            assertInstanceOf(LookupResult.TemporaryFailure.class, postmap.query("info@example.com", table).result());
            assertTrue(context.warnings.get(0).contains("Access denied"), context.warnings.toString());
            assertTrue(context.warnings.stream().noneMatch(w -> w.contains("wrong")), "no password in the log");
        }
    }

    @Test
    void aQueryWithoutAResultSetFailsAsRequireResultSetSays() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("noresult.cf"), connection + "query = DO '%s'\n");
        try (LookupTable t = new MysqlTableFactory().open(TableSpec.parse("mysql:" + cf), new FakePluginContext())) {
            assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("x"));
            assertInstanceOf(LookupResult.TemporaryFailure.class, postmap.query("x", "mysql:" + cf).result());
        }
        Path relaxed = PostfixPostmap.writeConfig(dir.resolve("relaxed.cf"), connection
                + "query = DO '%s'\nrequire_result_set = no\n");
        try (LookupTable t = new MysqlTableFactory().open(TableSpec.parse("mysql:" + relaxed),
                new FakePluginContext())) {
            assertEquals(LookupResult.notFound(), t.lookup("x"));
            assertEquals(LookupResult.notFound(), postmap.query("x", "mysql:" + relaxed).result());
        }
    }

    @Test
    void connectingIsBoundedByTheConnectTimeout() throws Exception {
        // a server that accepts the connection and never says a word
        try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            List<Socket> held = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                    }
                } catch (Exception closed) {
                    // the test is over
                }
            });
            acceptor.start();
            Path cf = PostfixPostmap.writeConfig(dir.resolve("silent.cf"), "hosts = inet:127.0.0.1:"
                    + silent.getLocalPort() + "\nuser = x\ndbname = mail\nconnect_timeout = 1\nquery = SELECT '%s'\n");
            try (LookupTable t = new MysqlTableFactory().open(TableSpec.parse("mysql:" + cf), new FakePluginContext())) {
                long start = System.nanoTime();
                assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("info@example.com"));
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(millis < 4000, millis + " ms");
            }
            silent.close();
            acceptor.join(5000);
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
