package org.estafeta.sasl.dovecot;

import org.estafeta.testing.FakePluginContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Reply;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslMechanismInfo.Flag;
import org.estafeta.api.sasl.SaslSession;
import org.estafeta.api.sasl.SaslStep;
import org.estafeta.testing.Peers;
import org.estafeta.testing.PrivateDovecot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AUTH exchanges relayed to a real, private Dovecot (passwd-file passdb with {PLAIN} passwords,
 * {@code auth_mechanisms = plain login cram-md5}, {@code auth_failure_delay = 0}) listening where Postfix's
 * documentation puts it: {@code private/auth} under {@code queue_directory}, and on a loopback TCP port.
 */
class DovecotInteropTest {
    static final String USER = "alice@example.com";
    static final String PASSWORD = "correct horse";
    static final SaslSession SESSION = session("192.0.2.7");

    @TempDir
    static Path queue;
    static PrivateDovecot dovecot;
    static int authPort;
    final DovecotSaslServer server = new DovecotSaslServer();
    final FakePluginContext ctx = new FakePluginContext("queue_directory", queue.toString(), "smtpd_sasl_path", "private/auth",
            AuthSettings.TIMEOUT_PARAMETER, "5s");

    @BeforeAll
    static void startDovecot() throws Exception {
        Peers.require(PrivateDovecot.DOVECOT, "dovecot-core");
        assumeTrue(PrivateDovecot.availableOrFail());
        authPort = org.estafeta.testing.PeerProcesses.freePort();
        dovecot = start("sasl-dovecot", queue, authPort);
    }

    /** A Dovecot whose auth service also listens on QUEUE/private/auth (and on 127.0.0.1:PORT when PORT > 0). */
    static PrivateDovecot start(String name, Path queueDirectory, int port) throws Exception {
        Files.createDirectories(queueDirectory.resolve("private"));
        String inet = port <= 0 ? "" : String.join("\n",
                "  inet_listener auth-inet {",
                "    address = 127.0.0.1",
                "    port = " + port,
                "  }");
        return PrivateDovecot.builder(name).lmtpPort(org.estafeta.testing.PeerProcesses.freePort()).user(USER, PASSWORD).user("bob@example.com", "bobs pw")
                .config(String.join("\n",
                        "auth_mechanisms = plain login cram-md5",
                        "auth_failure_delay = 0",
                        "auth_verbose = yes",
                        "auth_debug = yes",
                        "# users of broken.example live in a passwd-file that does not exist: a temporary failure",
                        "passdb {",
                        "  driver = passwd-file",
                        "  args = scheme=PLAIN " + queueDirectory.resolve("no-such-passwd-file"),
                        "  username_filter = *@broken.example",
                        "}",
                        "service auth {",
                        "  unix_listener " + queueDirectory.resolve("private/auth") + " {",
                        "    mode = 0666",
                        "  }",
                        inet,
                        "}"))
                .start();
    }

    @AfterAll
    static void stopDovecot() {
        if (dovecot != null) {
            dovecot.close();
        }
    }

    /**
     * A TLS session from {@code clientAddress}. Dovecot delays the next AUTH from an address that failed (its auth
     * penalty, 2 s and more): every failure in these tests comes from an address of its own.
     */
    static SaslSession session(String clientAddress) {
        return new SaslSession(new ClientInfo(clientAddress, "unknown", "client.example", true, Optional.empty()),
                40001, "127.0.0.1", 587, "submission", "");
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void mechanismsWithDovecotsFlags() throws Exception {
        try {
            assertEquals(List.of(new SaslMechanismInfo("PLAIN", Set.of(Flag.PLAINTEXT)),
                    new SaslMechanismInfo("LOGIN", Set.of(Flag.PLAINTEXT)),
                    new SaslMechanismInfo("CRAM-MD5", Set.of(Flag.DICTIONARY, Flag.ACTIVE))),
                    sorted(server.mechanisms(ctx)), dovecot.log());
            // asked again (every EHLO): the same connection's handshake, no new connection
            AuthConnection first = server.connection(AuthSettings.from(ctx), ctx.logger());
            server.mechanisms(ctx);
            assertSame(first, server.connection(AuthSettings.from(ctx), ctx.logger()));
        } finally {
            server.close();
        }
    }

    private static List<SaslMechanismInfo> sorted(List<SaslMechanismInfo> m) {
        List<String> order = List.of("PLAIN", "LOGIN", "CRAM-MD5");
        return m.stream().sorted(java.util.Comparator.comparingInt(i -> order.indexOf(i.name()))).toList();
    }

    @Test
    void plainWithInitialResponse() throws Exception {
        try {
            SaslStep step = server.start("PLAIN", SESSION, ctx).respond(bytes("\0" + USER + "\0" + PASSWORD));
            assertEquals(new SaslStep.Success(USER), step, dovecot.log());
            // what Dovecot received: Postfix's parameters (auth_debug shows the request, the response hidden)
            String log = dovecot.log();
            assertTrue(log.contains("service=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.7\tlport=587\trport=40001"
                    + "\tsecured\tresp=<hidden>"), log);
        } finally {
            server.close();
        }
    }

    @Test
    void plainWithoutInitialResponse() throws Exception {
        try {
            SaslExchange ex = server.start("PLAIN", SESSION, ctx);
            SaslStep first = ex.respond(null);
            assertEquals(0, assertInstanceOf(SaslStep.Challenge.class, first).data().length);
            assertEquals(new SaslStep.Success(USER), ex.respond(bytes("\0" + USER + "\0" + PASSWORD)));
        } finally {
            server.close();
        }
    }

    @Test
    void loginViaChallenges() throws Exception {
        try {
            SaslExchange ex = server.start("LOGIN", SESSION, ctx);
            assertEquals("Username:", text(ex.respond(null)));
            assertEquals("Password:", text(ex.respond(bytes(USER))));
            assertEquals(new SaslStep.Success(USER), ex.respond(bytes(PASSWORD)));
        } finally {
            server.close();
        }
    }

    @Test
    void cramMd5ComputedByTheJdksClient() throws Exception {
        try {
            SaslClient client = Sasl.createSaslClient(new String[] {"CRAM-MD5"}, null, "smtp", "localhost", null,
                    callbacks -> {
                        for (var cb : callbacks) {
                            if (cb instanceof NameCallback n) {
                                n.setName(USER);
                            } else if (cb instanceof PasswordCallback p) {
                                p.setPassword(PASSWORD.toCharArray());
                            }
                        }
                    });
            SaslExchange ex = server.start("CRAM-MD5", SESSION, ctx);
            SaslStep.Challenge challenge = assertInstanceOf(SaslStep.Challenge.class, ex.respond(null));
            assertTrue(new String(challenge.data(), StandardCharsets.US_ASCII).matches("<[^>]+@[^>]+>"));
            assertEquals(new SaslStep.Success(USER), ex.respond(client.evaluateChallenge(challenge.data())));
        } finally {
            server.close();
        }
    }

    @Test
    void wrongPasswordIsPostfixsFailure() throws Exception {
        try {
            SaslStep step = server.start("PLAIN", session("192.0.2.11"), ctx).respond(bytes("\0" + USER + "\0wrong"));
            assertEquals(new SaslStep.Failure(new Reply(535, "5.7.8",
                    "Error: authentication failed: (reason unavailable)")), step, dovecot.log());
            SaslExchange login = server.start("LOGIN", session("192.0.2.12"), ctx);
            login.respond(null);
            login.respond(bytes("nobody@example.com"));
            assertEquals(new SaslStep.Failure(new Reply(535, "5.7.8",
                    "Error: authentication failed: (reason unavailable)")), login.respond(bytes("x")));
            // a reason Dovecot gives is passed on
            SaslStep bad = server.start("PLAIN", session("192.0.2.13"), ctx).respond(bytes("no NULs here"));
            assertEquals(new SaslStep.Failure(new Reply(535, "5.7.8",
                    "Error: authentication failed: (reason unavailable)")), bad);
        } finally {
            server.close();
        }
    }

    @Test
    void dovecotsTemporaryFailureIsAnIoException() throws Exception {
        try {
            IOException e = assertThrows(IOException.class, () -> server.start("PLAIN", session("192.0.2.14"), ctx)
                    .respond(bytes("\0carol@broken.example\0pw")));
            assertEquals("SASL: Dovecot auth socket 'private/auth' reports a temporary failure", e.getMessage());
            // the connection is fine for everybody else
            assertEquals(new SaslStep.Success(USER),
                    server.start("PLAIN", SESSION, ctx).respond(bytes("\0" + USER + "\0" + PASSWORD)));
        } finally {
            server.close();
        }
    }

    @Test
    void twoBackEndsInOneProcessEachHaveTheirConnection() throws Exception {
        DovecotSaslServer second = new DovecotSaslServer();
        try {
            // each announces its own CPID (older Dovecots drop a connection repeating a live one's)
            server.mechanisms(ctx);
            second.mechanisms(ctx);
            assertEquals(new SaslStep.Success(USER),
                    server.start("PLAIN", SESSION, ctx).respond(bytes("\0" + USER + "\0" + PASSWORD)));
            assertEquals(new SaslStep.Success(USER),
                    second.start("PLAIN", SESSION, ctx).respond(bytes("\0" + USER + "\0" + PASSWORD)));
            assertTrue(!dovecot.log().contains("BUG"), dovecot.log());
        } finally {
            second.close();
            server.close();
        }
    }

    @Test
    void overTcp() throws Exception {
        ctx.parameters.put("smtpd_sasl_path", "inet:127.0.0.1:" + authPort);
        try {
            assertEquals(3, server.mechanisms(ctx).size());
            assertEquals(new SaslStep.Success("bob@example.com"),
                    server.start("PLAIN", SESSION, ctx).respond(bytes("\0bob@example.com\0bobs pw")));
        } finally {
            server.close();
        }
    }

    @Test
    void interleavedExchangesShareOneConnection() throws Exception {
        try {
            AuthConnection conn = server.connection(AuthSettings.from(ctx), ctx.logger());
            int n = 12;
            List<SaslExchange> logins = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                logins.add(server.start("LOGIN", i % 3 == 0 ? session("192.0.2." + (20 + i)) : SESSION, ctx));
            }
            // lock step: all twelve requests are open on Dovecot's side at once
            for (SaslExchange ex : logins) {
                assertEquals("Username:", text(ex.respond(null)));
            }
            for (int i = 0; i < n; i++) {
                assertEquals("Password:", text(logins.get(i).respond(bytes(i % 2 == 0 ? USER : "bob@example.com"))));
            }
            for (int i = n - 1; i >= 0; i--) {
                SaslStep s = logins.get(i).respond(bytes(i % 3 == 0 ? "wrong" : i % 2 == 0 ? PASSWORD : "bobs pw"));
                if (i % 3 == 0) {
                    assertInstanceOf(SaslStep.Failure.class, s);
                } else {
                    assertEquals(new SaslStep.Success(i % 2 == 0 ? USER : "bob@example.com"), s);
                }
            }
            // and from many threads at once
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<SaslStep>> results = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    boolean good = i % 4 != 0;
                    SaslSession from = good ? SESSION : session("192.0.2." + (100 + i));
                    results.add(pool.submit(() -> server.start("PLAIN", from, ctx)
                            .respond(bytes("\0" + USER + "\0" + (good ? PASSWORD : "nope")))));
                }
                for (int i = 0; i < results.size(); i++) {
                    SaslStep s = results.get(i).get(30, TimeUnit.SECONDS);
                    if (i % 4 != 0) {
                        assertEquals(new SaslStep.Success(USER), s);
                    } else {
                        assertInstanceOf(SaslStep.Failure.class, s);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            assertSame(conn, server.connection(AuthSettings.from(ctx), ctx.logger()));
            assertTrue(conn.isOpen());
        } finally {
            server.close();
        }
    }

    @Test
    void aPenalizedClientTimesOutWithoutDisturbingOthers() throws Exception {
        FakePluginContext quick = new FakePluginContext("queue_directory", queue.toString(), "smtpd_sasl_path", "private/auth",
                AuthSettings.TIMEOUT_PARAMETER, "1s");
        SaslSession attacker = session("192.0.2.50");
        try {
            AuthConnection conn = server.connection(AuthSettings.from(quick), quick.logger());
            assertInstanceOf(SaslStep.Failure.class, server.start("PLAIN", attacker, quick)
                    .respond(bytes("\0" + USER + "\0guess")));
            // Dovecot holds the attacker's next request back for 2 s, longer than the 1 s we wait
            SaslExchange held = server.start("PLAIN", attacker, quick);
            Future<SaslStep> other;
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                other = pool.submit(() -> {
                    Thread.sleep(200);
                    return server.start("PLAIN", SESSION, quick).respond(bytes("\0" + USER + "\0" + PASSWORD));
                });
                IOException e = assertThrows(IOException.class, () -> held.respond(bytes("\0" + USER + "\0guess")));
                assertEquals("SASL: no reply from Dovecot auth socket 'private/auth' within 1s", e.getMessage());
                assertEquals(new SaslStep.Success(USER), other.get(5, TimeUnit.SECONDS));
            } finally {
                pool.shutdownNow();
            }
            // the connection answered meanwhile, so it was kept
            assertTrue(conn.isOpen());
            assertSame(conn, server.connection(AuthSettings.from(quick), quick.logger()));
            assertEquals(List.of(), quick.lines());
        } finally {
            server.close();
        }
    }

    @Test
    void dovecotStoppedIsAnIoExceptionWithinTheTimeout(@TempDir Path otherQueue) throws Exception {
        PrivateDovecot dc = start("sasl-dovecot-stop", otherQueue, 0);
        FakePluginContext other = new FakePluginContext("queue_directory", otherQueue.toString(), "smtpd_sasl_path",
                "private/auth", AuthSettings.TIMEOUT_PARAMETER, "3s");
        try {
            SaslExchange ex = server.start("LOGIN", SESSION, other);
            assertEquals("Username:", text(ex.respond(null)));
            dc.close();
            long t0 = System.nanoTime();
            IOException lost = assertThrows(IOException.class, () -> ex.respond(bytes(USER)));
            assertTrue(lost.getMessage().contains("'private/auth'"), lost.getMessage());
            IOException down = assertThrows(IOException.class, () -> server.mechanisms(other));
            assertTrue(down.getMessage().startsWith("SASL: Connect to Dovecot auth socket 'private/auth' failed: "),
                    down.getMessage());
            assertThrows(IOException.class, () -> server.start("PLAIN", SESSION, other).respond(bytes("\0a\0b")));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(3), "not within the 3s timeout");
        } finally {
            dc.close();
            server.close();
        }
    }

    private static String text(SaslStep step) {
        return new String(assertInstanceOf(SaslStep.Challenge.class, step).data(), StandardCharsets.UTF_8);
    }
}
