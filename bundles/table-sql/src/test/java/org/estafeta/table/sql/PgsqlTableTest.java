package org.estafeta.table.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.PrivatePostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** pgsql: tables side by side with Debian's {@code postmap -q KEY pgsql:FILE} (postfix-pgsql), on a private server. */
class PgsqlTableTest {
    static final String READER = "reader";
    static final String READER_PASSWORD = "r3ad'er\\pw";

    @TempDir
    static Path dir;
    static PrivatePostgres pg;
    static PostfixPostmap postmap;
    static String connection;

    @BeforeAll
    static void server() throws Exception {
        pg = PrivatePostgres.create();
        pg.sql("postgres", "CREATE DATABASE mail;");
        pg.sql("mail", SqlCorpus.schema("\\") + "CREATE ROLE " + READER + " LOGIN PASSWORD '"
                + READER_PASSWORD.replace("'", "''") + "'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + READER
                + ";");
        postmap = new PostfixPostmap(dir);
        connection = "hosts = inet:127.0.0.1:" + pg.port() + "\nuser = " + READER + "\npassword = " + READER_PASSWORD
                + "\ndbname = mail\n";
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void answersAsPostmapForEveryKeyAndConfiguration() throws Exception {
        Map<String, Path> configs = SqlCorpus.write(dir, connection, SqlCorpus.sqliteDomains(dir));
        PgsqlTableFactory factory = new PgsqlTableFactory();
        factory.tableTypes(type -> type.equals("sqlite") ? new SqliteTableFactory() : null);
        SqlCorpus.compare(postmap, factory, "pgsql", configs);
        assertEquals("14", pg.sql("mail", "SELECT count(*) FROM aliases;").trim(), "the attacks changed nothing");
    }

    @Test
    void unixSocketsWork() throws Exception {
        // libpq's historical form names the socket's directory and uses port 5432: link that name to the server
        Path sockets = Files.createDirectories(dir.resolve("sockets"));
        Files.createSymbolicLink(sockets.resolve(".s.PGSQL.5432"),
                pg.socketDirectory().resolve(".s.PGSQL." + pg.port()));
        Path cf = PostfixPostmap.writeConfig(dir.resolve("unix.cf"), "hosts = unix:" + sockets + "\nuser = " + READER
                + "\ndbname = mail\nquery = SELECT goto FROM aliases WHERE address='%s'\n");
        try (LookupTable t = new PgsqlTableFactory().open(TableSpec.parse("pgsql:" + cf), new FakePluginContext())) {
            for (String key : List.of("info@example.com", "multi@example.com", "nobody@example.com")) {
                assertEquals(postmap.query(key, "pgsql:" + cf).result(), t.lookup(key), key);
            }
            assertEquals(LookupResult.found("a@example.com,b@example.com"), t.lookup("multi@example.com"));
        }
    }

    @Test
    void aStoppedServerIsATemporaryFailureAndTheTableRecoversWhenItIsBack() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("restart.cf"),
                connection + "query = SELECT goto FROM aliases WHERE address='%s'\n");
        String table = "pgsql:" + cf;
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = new PgsqlTableFactory().open(TableSpec.parse(table), context)) {
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            pg.stop();
            try {
                LookupResult down = t.lookup("info@example.com");
                assertInstanceOf(LookupResult.TemporaryFailure.class, down);
                assertTrue(((LookupResult.TemporaryFailure) down).reason().startsWith(table + ": "), down.toString());
                assertTrue(context.warnings.stream().anyMatch(w -> w.startsWith(table + ": connect to pgsql server")),
                        context.warnings.toString());
                PostfixPostmap.Answer postfix = postmap.query("info@example.com", table);
                assertInstanceOf(LookupResult.TemporaryFailure.class, postfix.result());
                assertTrue(postfix.stderr().contains("warning: connect to pgsql server"), postfix.stderr());
                assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("nobody@example.com"),
                        "never \"not found\" while the server is down");
            } finally {
                pg.start();
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
        try (LookupTable t = new PgsqlTableFactory().open(TableSpec.parse("pgsql:" + cf), context)) {
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            pg.stop();
            pg.start();
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            assertEquals(List.of(), context.warnings);
        }
    }

    @Test
    void aRefusedLoginIsATemporaryFailureAsInPostfix() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("badpw.cf"), connection.replace(READER_PASSWORD, "wrong")
                + "query = SELECT goto FROM aliases WHERE address='%s'\n");
        String table = "pgsql:" + cf;
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = new PgsqlTableFactory().open(TableSpec.parse(table), context)) {
            assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("info@example.com"));
            assertInstanceOf(LookupResult.TemporaryFailure.class, postmap.query("info@example.com", table).result());
            assertTrue(context.warnings.get(0).contains("password authentication failed"), context.warnings.toString());
            assertTrue(context.warnings.stream().noneMatch(w -> w.contains("wrong")), "no password in the log");
        }
    }

    @Test
    void aSecondServerAnswersWhenTheFirstIsDown() throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        Path cf = PostfixPostmap.writeConfig(dir.resolve("twohosts.cf"), connection.replace("hosts = ",
                "hosts = inet:127.0.0.1:" + dead + ", ") + "query = SELECT goto FROM aliases WHERE address='%s'\n");
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = new PgsqlTableFactory().open(TableSpec.parse("pgsql:" + cf), context)) {
            for (int i = 0; i < 6; i++) {
                assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            }
            assertTrue(context.warnings.size() <= 1, "the dead server is skipped for retry_interval: "
                    + context.warnings);
        }
        assertEquals(LookupResult.found("alice@example.com"), postmap.query("info@example.com", "pgsql:" + cf).result());
    }

    @Test
    void concurrentLookupsShareAFewConnections() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("concurrent.cf"),
                connection + "query = SELECT goto FROM aliases WHERE address='%s'\n");
        String table = "pgsql:" + cf;
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = new PgsqlTableFactory().open(TableSpec.parse(table), context)) {
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<Future<Boolean>> answers = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                boolean multi = i % 3 == 0;
                answers.add(pool.submit(() -> multi
                        ? t.lookup("multi@example.com").equals(LookupResult.found("a@example.com,b@example.com"))
                        : t.lookup("nobody@example.com").equals(LookupResult.notFound())));
            }
            for (Future<Boolean> a : answers) {
                assertTrue(a.get(60, TimeUnit.SECONDS));
            }
            pool.shutdown();
            String name = ("estafeta " + table).substring(0, Math.min(63, ("estafeta " + table).length()));
            int open = Integer.parseInt(pg.sql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE "
                    + "application_name = '" + name + "';").trim());
            assertTrue(open >= 1 && open <= SqlTable.MAX_CONNECTIONS, open + " connections");
            assertEquals(List.of(), context.warnings);
        }
    }

    @Test
    void idleConnectionsAreClosedAfterIdleInterval() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("idle.cf"),
                connection + "query = SELECT goto FROM aliases WHERE address='%s'\nidle_interval = 1\n");
        String table = "pgsql:" + cf;
        String count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                + ("estafeta " + table).substring(0, Math.min(63, ("estafeta " + table).length())) + "';";
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = new PgsqlTableFactory().open(TableSpec.parse(table), context)) {
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            assertEquals("1", pg.sql("postgres", count).trim());
            context.millis += 1500;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!pg.sql("postgres", count).trim().equals("0")) {
                assertTrue(System.nanoTime() < deadline, "the idle connection is still open");
                Thread.sleep(100);
            }
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
        }
    }

    @Test
    void lookupsAreBoundedByTheQueryAndConnectTimeouts() throws Exception {
        Path slow = PostfixPostmap.writeConfig(dir.resolve("slow.cf"), connection
                + "query = SELECT goto FROM aliases WHERE address='%s' AND "
                + "(SELECT 1 FROM pg_sleep(CASE WHEN '%u' = 'slow' THEN 5 ELSE 0 END)) = 1\nquery_timeout = 1\n");
        try (LookupTable t = new PgsqlTableFactory().open(TableSpec.parse("pgsql:" + slow), new FakePluginContext())) {
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
            long start = System.nanoTime();
            // on the reused connection: a timeout is not a broken connection, so no second try
            assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("slow@example.com"));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= 900 && millis < 1900, millis + " ms");
            assertEquals(LookupResult.found("alice@example.com"), t.lookup("info@example.com"));
        }
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
            try (LookupTable t = new PgsqlTableFactory().open(TableSpec.parse("pgsql:" + cf), new FakePluginContext())) {
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
