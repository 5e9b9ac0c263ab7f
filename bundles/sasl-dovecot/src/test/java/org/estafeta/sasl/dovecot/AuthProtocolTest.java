package org.estafeta.sasl.dovecot;

import org.estafeta.testing.FakePluginContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Reply;
import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslMechanismInfo.Flag;
import org.estafeta.api.sasl.SaslSession;
import org.estafeta.api.sasl.SaslStep;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client side of Dovecot's auth protocol against a scripted socket: the exact lines sent, and the answers a
 * real Dovecot gives only in trouble (silence, another version, the wrong socket, temporary failures).
 */
class AuthProtocolTest {
    static final SaslSession TLS_SESSION = new SaslSession(
            new ClientInfo("198.51.100.7", "unknown", "client.example", true, Optional.empty()), 40000, "192.0.2.1",
            587, "submission", "");
    static final byte[] ALICE_PLAIN = "\0alice\0secret".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path queue;
    private final DovecotSaslServer server = new DovecotSaslServer();
    private FakeAuthServer fake;
    private FakePluginContext ctx;

    @BeforeEach
    void setUp() throws IOException {
        Files.createDirectories(queue.resolve("private"));
        ctx = new FakePluginContext("queue_directory", queue.toString(), "smtpd_sasl_path", "private/auth",
                AuthSettings.TIMEOUT_PARAMETER, "1s");
    }

    @AfterEach
    void tearDown() throws IOException {
        server.close();
        if (fake != null) {
            fake.close();
        }
    }

    private void fake(FakeAuthServer.Script script) throws IOException {
        fake = new FakeAuthServer(queue.resolve("private/auth"), script);
    }

    @Test
    void sendsPostfixsRequestAndReadsTheUser() throws Exception {
        fake(p -> {
            p.handshake();
            String auth = p.readLine();
            p.send("OK\t" + auth.split("\t")[1] + "\tuser=alice@example.com\toriginal_user=alice");
            p.readLine();
        });
        assertEquals(List.of(new SaslMechanismInfo("PLAIN", Set.of(Flag.PLAINTEXT)),
                new SaslMechanismInfo("LOGIN", Set.of(Flag.PLAINTEXT))), server.mechanisms(ctx));
        SaslStep step = server.start("plain", TLS_SESSION, ctx).respond(ALICE_PLAIN);

        assertEquals(new SaslStep.Success("alice@example.com"), step);
        assertEquals("VERSION\t1\t0", fake.received.poll());
        String cpid = fake.received.poll();
        assertTrue(cpid.matches("CPID\t\\d+"), cpid);
        assertEquals("AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=192.0.2.1\trip=198.51.100.7\tlport=587\trport=40000"
                + "\tsecured\tresp=AGFsaWNlAHNlY3JldA==", fake.received.poll());
    }

    @Test
    void challengesContinuationsAndTheServiceParameter() throws Exception {
        fake(p -> {
            p.handshake();
            p.readLine();
            p.send("CONT\t1\t");
            p.readLine();
            p.send("CONT\t1\tVXNlcm5hbWU6");
            p.readLine();
            p.send("OK\t1\tuser=jos\u00e9\001tx");
            p.readLine();
        });
        ctx.parameters.put("smtpd_sasl_service", "submission");
        SaslSession plain = new SaslSession(new ClientInfo("198.51.100.7", "unknown", "", false, Optional.empty()), 0,
                "", 0, "smtp", "");
        var ex = server.start("LOGIN", plain, ctx);
        assertEquals(0, ((SaslStep.Challenge) ex.respond(null)).data().length);
        assertEquals("Username:", new String(((SaslStep.Challenge) ex.respond(new byte[0])).data(),
                StandardCharsets.US_ASCII));
        // Dovecot's TAB escape undone, then Postfix's printable(): the TAB becomes '?'
        assertEquals(new SaslStep.Success("jos\u00e9?x"), ex.respond("alice".getBytes(StandardCharsets.UTF_8)));
        fake.received.poll(1, TimeUnit.SECONDS);
        fake.received.poll(1, TimeUnit.SECONDS);
        assertEquals("AUTH\t1\tLOGIN\tservice=submission\tnologin\trip=198.51.100.7", fake.received.poll());
        assertEquals("CONT\t1\t", fake.received.poll());
        assertEquals("CONT\t1\tYWxpY2U=", fake.received.poll());
        assertThrows(IllegalStateException.class, () -> ex.respond(new byte[0]));
    }

    @Test
    void emptyInitialResponseIsAnEqualsSign() throws Exception {
        fake(p -> {
            p.handshake();
            p.readLine();
            p.send("FAIL\t1\treason=Invalid\001tinput");
            p.readLine();
        });
        SaslStep step = server.start("PLAIN", TLS_SESSION, ctx).respond(new byte[0]);
        assertEquals(new SaslStep.Failure(new Reply(535, "5.7.8", "Error: authentication failed: Invalid?input")), step);
        fake.received.poll();
        fake.received.poll();
        assertTrue(fake.received.poll().endsWith("\tsecured\tresp=="));
    }

    @Test
    void failureWithoutReasonIsPostfixsGenericText() throws Exception {
        fake(p -> {
            p.handshake();
            p.readLine();
            p.send("FAIL\t1\tuser=alice");
            p.readLine();
        });
        assertEquals(new SaslStep.Failure(new Reply(535, "5.7.8",
                "Error: authentication failed: (reason unavailable)")),
                server.start("PLAIN", TLS_SESSION, ctx).respond(ALICE_PLAIN));
    }

    @Test
    void temporaryFailuresAreIoExceptions() throws Exception {
        fake(p -> {
            p.handshake();
            p.readLine();
            p.send("FAIL\t1\tuser=alice\ttemp");
            p.readLine();
            p.send("FAIL\t2\tcode=temp_fail\treason=passdb unavailable");
            p.readLine();
        });
        IOException e1 = assertThrows(IOException.class,
                () -> server.start("PLAIN", TLS_SESSION, ctx).respond(ALICE_PLAIN));
        assertEquals("SASL: Dovecot auth socket 'private/auth' reports a temporary failure", e1.getMessage());
        IOException e2 = assertThrows(IOException.class,
                () -> server.start("PLAIN", TLS_SESSION, ctx).respond(ALICE_PLAIN));
        assertEquals("SASL: Dovecot auth socket 'private/auth' reports a temporary failure: passdb unavailable",
                e2.getMessage());
        assertEquals(1, fake.connections());
    }

    @Test
    void okWithoutUserIsABackendError() throws Exception {
        fake(p -> {
            p.handshake();
            p.readLine();
            p.send("OK\t1");
            p.readLine();
        });
        assertEquals(new SaslStep.Failure(new Reply(535, "5.7.8", "Error: authentication failed: Authentication backend error")),
                server.start("PLAIN", TLS_SESSION, ctx).respond(ALICE_PLAIN));
        assertEquals(List.of("WARNING missing Dovecot server OK username field"), ctx.lines());
    }

    @Test
    void unknownMechanismIsRefusedWithoutAskingDovecot() throws Exception {
        fake(p -> {
            p.handshake();
            p.readLine();
        });
        assertEquals(new SaslStep.Failure(new Reply(535, "5.7.8",
                "Error: authentication failed: Invalid authentication mechanism: 'CRAM-MD5'")),
                server.start("CRAM-MD5", TLS_SESSION, ctx).respond(null));
        assertEquals(2, fake.received.size(), fake.received.toString());
    }

    @Test
    void missingSocketNamesIt() {
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> server.mechanisms(ctx));
        assertEquals("SASL: Connect to Dovecot auth socket 'private/auth' failed: No such file or directory",
                e.getMessage());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1));
    }

    @Test
    void silentServerTimesOutAndIsLeft() throws Exception {
        fake(p -> {
            while (p.readLine() != null) {
                // reads, never answers
            }
        });
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> server.mechanisms(ctx));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals("SASL: Dovecot auth socket 'private/auth' did not complete its handshake within 1s", e.getMessage());
        assertTrue(ms >= 900 && ms < 3000, ms + " ms");
    }

    @Test
    void noReplyToAuthTimesOutClosesAndReconnects() throws Exception {
        fake(p -> {
            p.handshake();
            String auth = p.readLine();
            if (auth.contains("resp=AGFsaWNlAHNlY3JldA==")) {
                while (p.readLine() != null) {
                    // stuck
                }
            }
            p.send("OK\t" + auth.split("\t")[1] + "\tuser=bob");
            p.readLine();
        });
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class,
                () -> server.start("PLAIN", TLS_SESSION, ctx).respond(ALICE_PLAIN));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals("SASL: no reply from Dovecot auth socket 'private/auth' within 1s", e.getMessage());
        assertTrue(ms >= 900 && ms < 3000, ms + " ms");
        assertEquals(List.of("WARNING SASL: no reply from Dovecot auth socket 'private/auth' within 1s; closing the "
                + "connection"), ctx.lines());
        assertEquals(new SaslStep.Success("bob"), server.start("PLAIN", TLS_SESSION, ctx).respond("\0bob\0pw".getBytes(
                StandardCharsets.UTF_8)));
        assertEquals(2, fake.connections());
    }

    @Test
    void serverClosingTheConnectionFailsTheExchangeAndTheNextOneReconnects() throws Exception {
        fake(p -> {
            p.handshake();
            String auth = p.readLine();
            if (auth.contains("LOGIN")) {
                p.send("CONT\t" + auth.split("\t")[1] + "\tVXNlcm5hbWU6");
                p.readLine();
                return; // the peer thread ends; the test closes the socket below
            }
            p.send("OK\t" + auth.split("\t")[1] + "\tuser=bob");
            p.readLine();
        });
        var login = server.start("LOGIN", TLS_SESSION, ctx);
        assertInstanceOf(SaslStep.Challenge.class, login.respond(null));
        fake.close(); // Dovecot restarts: the connection drops
        IOException e = assertThrows(IOException.class, () -> login.respond("alice".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("SASL: "), e.getMessage());
        assertTrue(e.getMessage().contains("'private/auth'"), e.getMessage());

        fake(p -> {
            p.handshake();
            String auth = p.readLine();
            p.send("OK\t" + auth.split("\t")[1] + "\tuser=bob");
            p.readLine();
        });
        assertEquals(new SaslStep.Success("bob"), server.start("PLAIN", TLS_SESSION, ctx).respond(ALICE_PLAIN));
    }

    @Test
    void aFailedConnectIsRepeatedForAWhileAndRetriedByOneCallerAtATime() throws Exception {
        IOException missing = assertThrows(IOException.class, () -> server.mechanisms(ctx));
        fake(p -> {
            p.handshake();
            p.readLine();
        });
        // within the hold: the same failure at once, Dovecot is not asked
        assertEquals(missing.getMessage(), assertThrows(IOException.class, () -> server.mechanisms(ctx)).getMessage());
        assertEquals(0, fake.connections());
        fake.close();

        server.failureHold = java.time.Duration.ofMillis(100);
        fake(p -> {
            while (p.readLine() != null) {
                // silent: each connect takes the whole 1 s timeout
            }
        });
        Thread.sleep(150);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            var retrying = pool.submit(() -> assertThrows(IOException.class, () -> server.mechanisms(ctx)));
            while (fake.connections() == 0) {
                Thread.sleep(10);
            }
            // while that caller waits for Dovecot, the others get the last failure at once
            long t0 = System.nanoTime();
            assertEquals(missing.getMessage(), assertThrows(IOException.class, () -> server.mechanisms(ctx)).getMessage());
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(500));
            assertEquals("SASL: Dovecot auth socket 'private/auth' did not complete its handshake within 1s",
                    retrying.get(5, TimeUnit.SECONDS).getMessage());
            assertEquals(1, fake.connections());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void callersWaitingForTheFirstConnectShareItsFailure() throws Exception {
        fake(p -> {
            while (p.readLine() != null) {
                // silent
            }
        });
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            long t0 = System.nanoTime();
            List<java.util.concurrent.Future<IOException>> calls = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                calls.add(pool.submit(() -> assertThrows(IOException.class, () -> server.mechanisms(ctx))));
            }
            for (var call : calls) {
                assertEquals("SASL: Dovecot auth socket 'private/auth' did not complete its handshake within 1s",
                        call.get(5, TimeUnit.SECONDS).getMessage());
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms < 1800, ms + " ms: the callers waited for a connect each");
            assertEquals(1, fake.connections());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void authMasterSocketAndOtherVersionsAreRefused() throws Exception {
        server.failureHold = java.time.Duration.ZERO;
        fake(p -> {
            p.readLine();
            p.readLine();
            p.send("VERSION\t1\t2", "SPID\t4242");
            p.readLine();
        });
        IOException e = assertThrows(IOException.class, () -> server.mechanisms(ctx));
        assertEquals("SASL: Connected to wrong auth socket (auth-master instead of auth-client): 'private/auth'",
                e.getMessage());
        fake.close();

        fake(p -> {
            p.readLine();
            p.readLine();
            p.send("VERSION\t2\t0", "MECH\tPLAIN\tplaintext", "DONE");
            p.readLine();
        });
        e = assertThrows(IOException.class, () -> server.mechanisms(ctx));
        assertEquals("SASL: Protocol version mismatch (2 vs. 1) on Dovecot auth socket 'private/auth'", e.getMessage());
    }

    @Test
    void badParametersAreIoExceptions() {
        ctx.parameters.put(AuthSettings.TIMEOUT_PARAMETER, "soon");
        assertEquals("SASL: invalid estafeta_dovecot_auth_timeout value: soon",
                assertThrows(IOException.class, () -> server.mechanisms(ctx)).getMessage());
        ctx.parameters.put(AuthSettings.TIMEOUT_PARAMETER, "2m");
        ctx.parameters.put("smtpd_sasl_path", "inet:nowhere");
        assertEquals("SASL: bad smtpd_sasl_path, expected inet:host:port: inet:nowhere",
                assertThrows(IOException.class, () -> server.mechanisms(ctx)).getMessage());
    }

    @Test
    void dovecotsTabEscaping() {
        String raw = "a\tb\rc\nd\001e";
        assertEquals("a\001tb\001rc\001nd\0011e", TabEscape.escape(raw));
        assertEquals(raw, TabEscape.unescape(TabEscape.escape(raw)));
        assertEquals("smtp", TabEscape.escape("smtp"));
        assertEquals("x?y", TabEscape.printableAscii("x\u00e9y"));
    }

    @Test
    void socketPaths() {
        assertEquals(java.net.UnixDomainSocketAddress.of("/var/spool/postfix/private/auth"),
                AuthSocket.parse("private/auth", "/var/spool/postfix").address());
        assertEquals(java.net.UnixDomainSocketAddress.of("/run/dovecot/auth-client"),
                AuthSocket.parse("unix:/run/dovecot/auth-client", "/var/spool/postfix").address());
        var inet = (java.net.InetSocketAddress) AuthSocket.parse("inet:[::1]:12345", "/q").address();
        assertEquals("::1", inet.getHostString());
        assertEquals(12345, inet.getPort());
        assertEquals("dovecot.example", ((java.net.InetSocketAddress) AuthSocket.parse("inet:dovecot.example:12345",
                "/q").address()).getHostString());
    }
}
