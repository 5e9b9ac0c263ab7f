package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslMechanismInfo.Flag;
import org.estafeta.api.sasl.SaslServer;
import org.estafeta.api.sasl.SaslSession;
import org.estafeta.api.sasl.SaslStep;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SMTP AUTH (RFC 4954) in the session, with Postfix's replies, against a scripted back end. */
class SaslAuthTest {
    private final Harness h = new Harness();
    private final FakeCleanup cleanup = new FakeCleanup();
    private final ScriptedServer server = new ScriptedServer();

    /** PLAIN (user juan, password secreto), ANONYMOUS, and X-TWO (a challenge, then "ok" succeeds as "two"). */
    static final class ScriptedServer implements SaslServer {
        final List<SaslSession> sessions = new ArrayList<>();
        boolean down;

        @Override
        public List<SaslMechanismInfo> mechanisms(PluginContext context) throws IOException {
            if (down) {
                throw new IOException("connect to private/auth: Connection refused");
            }
            return List.of(new SaslMechanismInfo("PLAIN", Set.of(Flag.PLAINTEXT)),
                    new SaslMechanismInfo("X-TWO", Set.of()),
                    new SaslMechanismInfo("ANONYMOUS", Set.of(Flag.ANONYMOUS)));
        }

        @Override
        public SaslExchange start(String mechanism, SaslSession session, PluginContext context) throws IOException {
            if (down) {
                throw new IOException("connect to private/auth: Connection refused");
            }
            sessions.add(session);
            return switch (mechanism) {
                case "PLAIN" -> response -> {
                    if (response == null) {
                        return new SaslStep.Challenge(new byte[0]);
                    }
                    String s = new String(response, StandardCharsets.UTF_8);
                    return s.equals("\0juan\0secreto") ? new SaslStep.Success("juan")
                            : new SaslStep.Failure(new Reply(535, "5.7.8", "Error: authentication failed: authentication failure"));
                };
                case "X-TWO" -> new SaslExchange() {
                    int step;

                    @Override
                    public SaslStep respond(byte[] response) {
                        if (step++ == 0) {
                            return new SaslStep.Challenge("more?".getBytes(StandardCharsets.US_ASCII));
                        }
                        return new String(response, StandardCharsets.US_ASCII).equals("ok") ? new SaslStep.Success("two")
                                : new SaslStep.Failure(new Reply(535, "5.7.8", "Error: authentication failed: no"));
                    }
                };
                default -> response -> new SaslStep.Success("anonymous");
            };
        }
    }

    @AfterEach
    void close() {
        h.close();
    }

    private Harness open(String... params) {
        h.clientIp = "127.0.0.1";
        h.cleanup = cleanup;
        h.saslServers.put("cyrus", server);
        h.open(params);
        h.output();
        return h;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void offNothingAnnouncedAndPostfixRepliesForAuthAndAuthParameter() {
        open();
        assertFalse(h.ask("EHLO c.example\r\n").contains("AUTH"));
        assertEquals("503 5.5.1 Error: authentication not enabled\r\n", h.ask("AUTH PLAIN\r\n"));
        assertEquals("503 5.5.4 Error: authentication disabled\r\n", h.ask("MAIL FROM:<a@example.org> AUTH=<>\r\n"));
    }

    @Test
    void announcedWithTheSecurityOptionsAppliedAndTheBrokenClientsLine() {
        open("smtpd_sasl_auth_enable", "yes", "broken_sasl_auth_clients", "yes");
        String ehlo = h.ask("EHLO c.example\r\n");
        // noanonymous (the default) hides ANONYMOUS; AUTH sits after ETRN, as in Postfix
        assertTrue(ehlo.contains("250-ETRN\r\n250-AUTH PLAIN X-TWO\r\n250-AUTH=PLAIN X-TWO\r\n250-ENHANCEDSTATUSCODES"), ehlo);
        assertEquals("535 5.7.8 Error: authentication failed: Invalid authentication mechanism: 'ANONYMOUS'\r\n",
                h.ask("AUTH ANONYMOUS\r\n"));
    }

    @Test
    void noplaintextHidesPlainWithoutTls() {
        open("smtpd_sasl_auth_enable", "yes", "smtpd_sasl_security_options", "noanonymous, noplaintext");
        String ehlo = h.ask("EHLO c.example\r\n");
        assertTrue(ehlo.contains("250-AUTH X-TWO\r\n"), ehlo);
        assertTrue(h.ask("AUTH PLAIN " + b64("\0juan\0secreto") + "\r\n")
                .startsWith("535 5.7.8 Error: authentication failed: Invalid authentication mechanism: 'PLAIN'"));
    }

    @Test
    void plainWithInitialResponseThenTheMessageCarriesTheUser() {
        open("smtpd_sasl_auth_enable", "yes");
        h.ask("EHLO c.example\r\n");
        assertEquals("235 2.7.0 Authentication successful\r\n", h.ask("AUTH PLAIN " + b64("\0juan\0secreto") + "\r\n"));
        assertEquals("503 5.5.1 Error: already authenticated\r\n", h.ask("AUTH PLAIN " + b64("\0juan\0secreto") + "\r\n"));
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org> AUTH=<a@example.org>\r\n"));
        assertEquals("503 5.5.1 Error: MAIL transaction in progress\r\n", h.ask("AUTH X-TWO\r\n"));
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
        h.ask("DATA\r\n");
        String reply = h.ask("Subject: t\r\n\r\nbody\r\n.\r\n");
        FakeCleanup.Message m = cleanup.single();
        assertEquals("250 2.0.0 Ok: queued as " + m.queueId() + "\r\n", reply);
        assertEquals("juan", m.envelope().client().saslUsername().orElseThrow());
        assertFalse(m.envelope().mailParameters().containsKey("AUTH"), "AUTH= is not passed on");
        assertTrue(h.log.lines.contains("info: " + m.queueId() + ": client=" + h.client()
                + ", sasl_method=PLAIN, sasl_username=juan, sasl_sender=<a@example.org>"), h.log.lines::toString);
        assertEquals(List.of(), m.envelope().receivedComments(), "smtpd_sasl_authenticated_header = no");
        assertEquals("127.0.0.1", server.sessions.get(0).client().address());
        assertEquals("smtp", server.sessions.get(0).service());
    }

    @Test
    void theAuthenticatedHeaderNamesTheUserInAReceivedComment() {
        open("smtpd_sasl_auth_enable", "yes", "smtpd_sasl_authenticated_header", "yes");
        h.ask("EHLO c.example\r\n");
        h.ask("AUTH PLAIN " + b64("\0juan\0secreto") + "\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        h.ask("DATA\r\n");
        h.ask("Subject: t\r\n\r\nbody\r\n.\r\n");
        assertEquals(List.of("(Authenticated sender: juan)"), cleanup.single().envelope().receivedComments());
    }

    @Test
    void challengesAreAnsweredLineByLineAndStarAborts() {
        open("smtpd_sasl_auth_enable", "yes");
        h.ask("EHLO c.example\r\n");
        assertEquals("334 \r\n", h.ask("AUTH PLAIN\r\n"));
        assertEquals("235 2.7.0 Authentication successful\r\n", h.ask(b64("\0juan\0secreto") + "\r\n"));
        h.close();

        Harness again = new Harness();
        try {
            again.clientIp = "127.0.0.1";
            again.saslServers.put("cyrus", server);
            again.open("smtpd_sasl_auth_enable", "yes");
            again.output();
            again.ask("EHLO c.example\r\n");
            assertEquals("334 " + b64("more?") + "\r\n", again.ask("AUTH X-TWO\r\n"));
            assertEquals("501 5.7.0 Authentication aborted\r\n", again.ask("*\r\n"));
            assertTrue(again.log.lines.contains("warning: unknown[127.0.0.1]: SASL X-TWO authentication aborted"),
                    again.log.lines::toString);
            // the session goes on: the next line is a command again
            assertEquals("334 " + b64("more?") + "\r\n", again.ask("AUTH X-TWO\r\n"));
            assertEquals("535 5.7.8 Error: authentication failed: Invalid base64 data in continued response\r\n",
                    again.ask("%%%\r\n"));
            assertEquals("250 2.0.0 Ok\r\n", again.ask("NOOP\r\n"));
        } finally {
            again.close();
        }
    }

    @Test
    void wrongPasswordIs535AndLoggedWithoutThePassword() {
        open("smtpd_sasl_auth_enable", "yes");
        h.ask("EHLO c.example\r\n");
        assertEquals("535 5.7.8 Error: authentication failed: authentication failure\r\n",
                h.ask("AUTH PLAIN " + b64("\0juan\0wrong-guess") + "\r\n"));
        assertTrue(h.log.lines.contains("warning: unknown[127.0.0.1]: SASL PLAIN authentication failed: authentication failure"),
                h.log.lines::toString);
        assertTrue(h.log.lines.stream().noneMatch(l -> l.contains("wrong-guess") || l.contains(b64("\0juan\0wrong-guess"))));
        assertEquals("535 5.7.8 Error: authentication failed: Invalid base64 data in initial response\r\n",
                h.ask("AUTH PLAIN ####\r\n"));
        assertEquals("501 5.5.4 Syntax: AUTH mechanism\r\n", h.ask("AUTH\r\n"));
    }

    @Test
    void authRateLimitPerClientAddress() {
        open("smtpd_sasl_auth_enable", "yes", "smtpd_client_auth_rate_limit", "2",
                "smtpd_client_event_limit_exceptions", "");
        h.ask("EHLO c.example\r\n");
        h.ask("AUTH PLAIN " + b64("\0juan\0x") + "\r\n");
        h.ask("AUTH PLAIN " + b64("\0juan\0y") + "\r\n");
        assertEquals("450 4.7.1 Error: too many AUTH commands from 127.0.0.1\r\n", h.ask("AUTH PLAIN " + b64("\0juan\0secreto") + "\r\n"));
        assertTrue(h.log.lines.contains("warning: AUTH command rate limit exceeded: 3 from unknown[127.0.0.1] for service smtp"),
                h.log.lines::toString);
    }

    @Test
    void tlsAuthOnlyKeepsAuthOffBeforeStarttls() {
        open("smtpd_sasl_auth_enable", "yes", "smtpd_tls_auth_only", "yes");
        assertFalse(h.ask("EHLO c.example\r\n").contains("AUTH"));
        assertEquals("503 5.5.1 Error: authentication not enabled\r\n", h.ask("AUTH PLAIN " + b64("\0juan\0secreto") + "\r\n"));
    }

    @Test
    void exceptionsNetworksHideAuthButStillAcceptIt() {
        open("smtpd_sasl_auth_enable", "yes", "smtpd_sasl_exceptions_networks", "127.0.0.0/8");
        assertFalse(h.ask("EHLO c.example\r\n").contains("AUTH"));
        // Postfix's backwards compatibility: the command works even though it was not announced
        assertEquals("235 2.7.0 Authentication successful\r\n", h.ask("AUTH PLAIN " + b64("\0juan\0secreto") + "\r\n"));
    }

    @Test
    void aResponseLongerThanTheLimitEndsTheExchange() {
        open("smtpd_sasl_auth_enable", "yes", "smtpd_sasl_response_limit", "100", "line_length_limit", "2048");
        h.ask("EHLO c.example\r\n");
        assertEquals("334 " + b64("more?") + "\r\n", h.ask("AUTH X-TWO\r\n"));
        assertEquals("500 5.5.6 SASL response limit exceeded\r\n", h.ask("A".repeat(200) + "\r\n"));
        assertEquals("250 2.0.0 Ok\r\n", h.ask("NOOP\r\n"));
    }

    @Test
    void levelEncryptImpliesTlsAuthOnlyAsInPostfix() {
        open("smtpd_sasl_auth_enable", "yes", "smtpd_tls_security_level", "encrypt");
        assertFalse(h.ask("EHLO c.example\r\n").contains("AUTH"));
    }

    @Test
    void backEndDownOrMissingIs454AndAuthIsNotAnnounced() {
        server.down = true;
        open("smtpd_sasl_auth_enable", "yes");
        assertFalse(h.ask("EHLO c.example\r\n").contains("AUTH"));
        assertTrue(h.log.lines.stream().anyMatch(l -> l.startsWith("warning: unknown[127.0.0.1]: SASL cyrus: cannot list mechanisms: connect to private/auth")),
                h.log.lines::toString);
        assertEquals("454 4.7.0 Temporary authentication failure: Can't connect to authentication server\r\n",
                h.ask("AUTH PLAIN " + b64("\0juan\0secreto") + "\r\n"));
        h.close();

        Harness missing = new Harness();
        try {
            missing.clientIp = "127.0.0.1";
            missing.open("smtpd_sasl_auth_enable", "yes", "smtpd_sasl_type", "dovecot");
            missing.output();
            missing.ask("EHLO c.example\r\n");
            assertTrue(missing.log.lines.stream().anyMatch(l -> l.contains(
                    "SASL type \"dovecot\" (smtpd_sasl_type) is not available: bundle estafeta-sasl-dovecot")),
                    missing.log.lines::toString);
        } finally {
            missing.close();
        }
    }
}
