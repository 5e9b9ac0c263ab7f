package org.estafeta.table.ldap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Postmap;
import org.estafeta.testing.PrivateSlapd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What happens when the server is away, refuses the bind or does not answer (temporary failures naming the table,
 * then recovery), and when the file is wrong (the open fails naming file and line).
 */
class LdapFailureTest {
    static PrivateSlapd slapd;
    static Path postfix;

    @TempDir
    static Path dir;

    @BeforeAll
    static void startSlapd() throws Exception {
        Postmap.require();
        assumeTrue(PrivateSlapd.availableOrFail());
        slapd = PrivateSlapd.builder("table-ldap-failure").address("127.0.0.47").ldif(LdapDirectory.LDIF).start();
        postfix = LdapDirectory.postfixConfig(dir);
    }

    @AfterAll
    static void stopSlapd() {
        if (slapd != null) {
            slapd.close();
        }
    }

    private static Path file(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    private static String users(String server) {
        return "server_host = " + server + "\nversion = 3\ntimeout = 2\nsearch_base = dc=example,dc=com\n"
                + "query_filter = (mail=%s)\nresult_attribute = uid\n";
    }

    @Test
    void aStoppedServerIsATemporaryFailureAndARestartedOneWorksAgain() throws Exception {
        Path f = file("users.cf", users(slapd.url()));
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = LdapDirectory.open(f, context)) {
            assertEquals(LookupResult.found("alice"), t.lookup("alice@example.com"));
            slapd.stop();
            try {
                LookupResult r = t.lookup("alice@example.com");
                LookupResult.TemporaryFailure tf = assertInstanceOf(LookupResult.TemporaryFailure.class, r);
                assertTrue(tf.reason().startsWith("ldap:" + f + ": "), tf.reason());
                assertTrue(tf.reason().contains("Can't contact LDAP server"), tf.reason());
                assertTrue(context.warnings.stream().anyMatch(w -> w.startsWith("ldap:" + f + ": Unable to connect")),
                        context.warnings.toString());
                assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("bob@example.com"));
                assertEquals(new LdapDirectory.Answer(null, true), LdapDirectory.postmap(postfix, "alice@example.com", f));
            } finally {
                slapd.restart();
            }
            assertEquals(LookupResult.found("alice"), t.lookup("alice@example.com"));
            assertEquals(LookupResult.found("bob"), t.lookup("bob@example.com"));
            assertEquals(new LdapDirectory.Answer("alice", false), LdapDirectory.postmap(postfix, "alice@example.com", f));
        }
    }

    @Test
    void aServerRestartBetweenLookupsIsNotNoticed() throws Exception {
        Path f = file("restart.cf", users(slapd.url()));
        try (LookupTable t = LdapDirectory.open(f, new FakePluginContext())) {
            assertEquals(LookupResult.found("alice"), t.lookup("alice@example.com"));
            slapd.stop();
            slapd.restart();
            // the pooled connection is dead; the lookup connects again once, as Postfix does
            assertEquals(LookupResult.found("alice"), t.lookup("alice@example.com"));
        }
    }

    @Test
    void theNextServerOfTheListIsTriedWhenOneIsDown() throws Exception {
        // nothing listens on 127.0.0.46 at slapd's port: refused, then the bare host with server_port answers
        Path f = file("list.cf", users("ldap://127.0.0.46:" + slapd.port() + "/ , " + slapd.address())
                + "server_port = " + slapd.port() + "\n");
        try (LookupTable t = LdapDirectory.open(f, new FakePluginContext())) {
            assertEquals(LookupResult.found("alice"), t.lookup("alice@example.com"));
        }
    }

    @Test
    void aRefusedBindIsATemporaryFailureWithoutThePassword() throws Exception {
        Path f = file("bind.cf", users(slapd.url()) + "bind = yes\nbind_dn = cn=admin,dc=example,dc=com\n"
                + "bind_pw = Wr0ngSecret\n");
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = LdapDirectory.open(f, context)) {
            LookupResult.TemporaryFailure tf = assertInstanceOf(LookupResult.TemporaryFailure.class,
                    t.lookup("alice@example.com"));
            assertTrue(tf.reason().contains("Unable to bind to server " + slapd.url()
                    + " with dn cn=admin,dc=example,dc=com: 49: Invalid credentials"), tf.reason());
            assertFalse(context.warnings.toString().contains("Wr0ngSecret"), context.warnings.toString());
            assertEquals(new LdapDirectory.Answer(null, true), LdapDirectory.postmap(postfix, "alice@example.com", f));
        }
    }

    @Test
    void aServerThatDoesNotAnswerTimesOut() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.48"))) {
            List<Socket> accepted = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept());
                    }
                } catch (IOException e) {
                    // closed
                }
            });
            acceptor.start();
            Path f = file("silent.cf", users("ldap://127.0.0.48:" + silent.getLocalPort()).replace("timeout = 2",
                    "timeout = 1"));
            FakePluginContext context = new FakePluginContext();
            try (LookupTable t = LdapDirectory.open(f, context)) {
                long start = System.nanoTime();
                LookupResult r = t.lookup("alice@example.com");
                long millis = (System.nanoTime() - start) / 1_000_000;
                LookupResult.TemporaryFailure tf = assertInstanceOf(LookupResult.TemporaryFailure.class, r);
                assertTrue(millis >= 900 && millis < 5000, millis + " ms: " + tf.reason());
                assertEquals(new LdapDirectory.Answer(null, true), LdapDirectory.postmap(postfix, "alice@example.com", f));
            } finally {
                silent.close();
                acceptor.join(5000);
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    /**
     * In OSGi the thread context class loader is a bundle's, which cannot see the JDK's LDAP provider. Here it
     * is one that sees nothing at all: the lookup must still work, and the caller's loader be left in place.
     * (On JDK 17 JNDI also finds the provider among the boot layer's services whatever the loader; the table
     * sets the platform loader anyway, for the by-name fallback.)
     */
    @Test
    void aContextClassLoaderThatCannotSeeTheProviderDoesNotMatter() throws Exception {
        Path f = file("tccl.cf", users(slapd.url()));
        ClassLoader blind = new ClassLoader(null) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                throw new ClassNotFoundException(name);
            }
        };
        Thread t = Thread.currentThread();
        ClassLoader saved = t.getContextClassLoader();
        t.setContextClassLoader(blind);
        try (LookupTable table = LdapDirectory.open(f, new FakePluginContext())) {
            assertEquals(LookupResult.found("alice"), table.lookup("alice@example.com"));
            assertEquals(blind, t.getContextClassLoader());
        } finally {
            t.setContextClassLoader(saved);
        }
    }

    @Test
    void manyThreadsAtOnce() throws Exception {
        Path f = file("threads.cf", users(slapd.url()));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (LookupTable t = LdapDirectory.open(f, new FakePluginContext())) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                String who = i % 2 == 0 ? "alice" : "bob";
                results.add(pool.submit(() -> LookupResult.found(who).equals(t.lookup(who + "@example.com"))));
            }
            for (Future<Boolean> r : results) {
                assertTrue(r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aBadLineFailsTheOpenNamingFileAndLine() throws Exception {
        Path f = file("bad.cf", "# comment\nserver_host = " + slapd.url() + "\n\nsearch_base dc=example,dc=com\n");
        TableOpenException e = assertThrows(TableOpenException.class,
                () -> LdapDirectory.open(f, new FakePluginContext()));
        assertEquals("ldap:" + f + ": " + f + ", line 4: missing '=' after attribute name: \"search_base"
                + " dc=example,dc=com\"", e.getMessage());
        // Postfix refuses the same file with the same words
        String postmap = org.estafeta.testing.ProcessRunner.run(List.of(Postmap.POSTMAP, "-c", postfix.toString(),
                "-q", "x", "ldap:" + f), 30).stderr();
        assertTrue(postmap.contains(f + ", line 4: missing '=' after attribute name: \"search_base dc=example,dc=com\""),
                postmap);
    }

    @Test
    void badValuesAndUnsupportedParametersFailTheOpen() throws Exception {
        record Case(String line, String message) {
        }
        for (Case c : List.of(
                new Case("timeout = soon", "bad numerical configuration: timeout = soon"),
                new Case("recursion_limit = 0", "invalid recursion_limit parameter value 0 < 1"),
                new Case("bind = maybe", "unsupported parameter value: bind = maybe"),
                new Case("bind = sasl", "bind = sasl is not supported"),
                new Case("start_tls = yes", "start_tls = yes is not supported"),
                new Case("chase_referrals = perhaps", "bad boolean configuration: chase_referrals = perhaps"),
                new Case("query_filter = (mail=%x)", "invalid query template"),
                new Case("domain = hash:/etc/postfix/domains", "table lookups"),
                new Case("server_host = ldapi://%2Frun%2Fslapd.sock", "ldapi:// (UNIX-domain) URLs are not supported"))) {
            Path f = file("value.cf", users(slapd.url()) + c.line() + "\n");
            TableOpenException e = assertThrows(TableOpenException.class,
                    () -> LdapDirectory.open(f, new FakePluginContext()), c.line());
            assertTrue(e.getMessage().startsWith("ldap:" + f + ": ") && e.getMessage().contains(c.message()),
                    c.line() + ": " + e.getMessage());
        }
        TableOpenException missing = assertThrows(TableOpenException.class,
                () -> LdapDirectory.open(dir.resolve("absent.cf"), new FakePluginContext()));
        assertEquals("ldap:" + dir.resolve("absent.cf") + ": open " + dir.resolve("absent.cf")
                + ": No such file or directory", missing.getMessage());
    }
}
