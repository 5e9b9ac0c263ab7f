package org.estafeta.transport.smtp.internal;

import static org.estafeta.transport.smtp.internal.Fixtures.context;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.testing.RecordingLogger;
import org.estafeta.transport.smtp.internal.SaslMechanisms.Mechanism;
import org.estafeta.transport.smtp.internal.SaslPasswords.Credentials;
import org.estafeta.transport.smtp.internal.TlsFixtures.MapTables;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** SMTP AUTH in the smtp client against scripted servers that check the credentials they are sent. */
class SaslClientTest {
    private static final String PASSWORD = "s3cret-Pw";
    private static final String CRAM_CHALLENGE = "<1896.697170952@postoffice.reston.mci.net>";

    private final Fixtures.MapResolver dns = new Fixtures.MapResolver();
    private final RecordingLogger log = new RecordingLogger("smtp");
    private final Map<String, String> passwd = new HashMap<>();
    private final MapTables tables = new MapTables(Map.of("test:passwd", passwd));
    /** Users the servers accepted, in order. */
    private final List<String> authenticated = Collections.synchronizedList(new ArrayList<>());
    private final List<ScriptedServer> servers = new ArrayList<>();
    private SmtpClient smtp;

    @AfterEach
    void stop() throws IOException {
        if (smtp != null) {
            smtp.close();
        }
        for (ScriptedServer s : servers) {
            s.close();
        }
    }

    private SmtpClient client() {
        if (smtp == null) {
            smtp = new SmtpClient(false, dns, tables, log);
        }
        return smtp;
    }

    private static PluginContext ctx(String... pairs) {
        List<String> all = new ArrayList<>(List.of("smtp_sasl_auth_enable", "yes",
                "smtp_sasl_password_maps", "test:passwd"));
        all.addAll(List.of(pairs));
        return context(all.toArray(String[]::new));
    }

    /** A server whose EHLO offers {@code keywords} and that checks AUTH against {@code user}/{@link #PASSWORD}. */
    private ScriptedServer server(List<String> keywords, String... users) throws IOException {
        ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 scripted.test ESMTP", keywords,
                new AuthAnswer(List.of(users))));
        servers.add(s);
        return s;
    }

    private static DeliveryRequest request(String nexthop, String sender) {
        Envelope env = new Envelope("4QUEUEID", sender, List.of("rcpt@example.com"),
                new ClientInfo("192.0.2.9", "client.example.org", "client.example.org", false, Optional.empty()));
        return new DeliveryRequest(nexthop, env, List.of("rcpt@example.com"), Fixtures.content(Fixtures.MESSAGE),
                Map.of(), "smtp", List.of(), Map.of(), Map.of());
    }

    private List<RecipientResult> deliver(ScriptedServer s, PluginContext ctx) {
        return client().deliver(request(s.nexthop(), "sender@example.org"), ctx);
    }

    private void assertNoSecretLogged() {
        for (String l : log.lines()) {
            assertFalse(l.contains(PASSWORD), l);
            assertFalse(l.contains(b64("\0user\0" + PASSWORD)), l);
        }
    }

    // ---- lookup order ----

    @Test
    void hostThenNextHopAsWrittenAndNoEntryMeansNoAuth() throws Exception {
        ScriptedServer s = server(List.of("AUTH PLAIN LOGIN"));
        List<RecipientResult> r = deliver(s, ctx("smtp_sasl_security_options", "noanonymous"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals(List.of(), s.commands("AUTH"), "no credentials: talk as strangers");
        assertEquals(List.of("test:passwd 127.0.0.1", "test:passwd [127.0.0.1]:" + s.port()), tables.asked);
    }

    @Test
    void senderFirstWithSenderDependentAuthentication() throws Exception {
        ScriptedServer s = server(List.of("AUTH PLAIN LOGIN"));
        deliver(s, ctx("smtp_sender_dependent_authentication", "yes", "recipient_delimiter", "+"));
        client().deliver(request(s.nexthop(), "Sender+Ext@Example.org"),
                ctx("smtp_sender_dependent_authentication", "yes", "recipient_delimiter", "+", "myorigin", "example.org"));
        String dest = "test:passwd [127.0.0.1]:" + s.port();
        assertEquals(List.of("test:passwd sender@example.org", "test:passwd @example.org", "test:passwd 127.0.0.1", dest,
                "test:passwd sender+ext@example.org", "test:passwd sender@example.org", "test:passwd sender+ext",
                "test:passwd sender", "test:passwd @example.org", "test:passwd 127.0.0.1", dest), tables.asked);
    }

    @Test
    void theSenderEntryWinsOverTheHostEntryWhichWinsOverTheNextHop() throws Exception {
        ScriptedServer s = server(List.of("AUTH PLAIN"), "by-sender", "by-host", "by-nexthop");
        passwd.put("[127.0.0.1]:" + s.port(), "by-nexthop:" + PASSWORD);
        passwd.put("127.0.0.1", "by-host:" + PASSWORD);
        passwd.put("@example.org", "by-sender:" + PASSWORD);
        PluginContext ctx = ctx("smtp_sasl_security_options", "", "smtp_sender_dependent_authentication", "yes");
        assertEquals(Status.DELIVERED, deliver(s, ctx).get(0).status(), log.lines().toString());
        passwd.remove("@example.org");
        assertEquals(Status.DELIVERED, deliver(s, ctx).get(0).status(), log.lines().toString());
        passwd.remove("127.0.0.1");
        assertEquals(Status.DELIVERED, deliver(s, ctx).get(0).status(), log.lines().toString());
        assertEquals(List.of("by-sender", "by-host", "by-nexthop"), authenticated);
        assertNoSecretLogged();
    }

    @Test
    void anMxHostIsLookedUpByItsNameThenTheDomain() throws Exception {
        // an MX host of next hop example.net: its name (folded to lower case), then the domain as written
        passwd.put("example.net", "mx-user:" + PASSWORD);
        SaslPasswords pw = new SaslPasswords(ClientSettings.from(ctx(), false).sasl(), tables,
                ClientSettings.from(ctx(), false).localDomains());
        Credentials c = pw.find(null, "MX.example.net", "example.net");
        assertEquals("mx-user", c.username());
        assertEquals(PASSWORD, c.password());
        assertEquals(List.of("test:passwd mx.example.net", "test:passwd example.net"), tables.asked);
        assertFalse(c.toString().contains(PASSWORD), c.toString());
    }

    @Test
    void theValueIsSplitAtItsFirstColon() throws Exception {
        passwd.put("h", "user:pass:with:colons");
        passwd.put("n", "nocolon");
        SaslPasswords pw = new SaslPasswords(ClientSettings.from(ctx(), false).sasl(), tables,
                ClientSettings.from(ctx(), false).localDomains());
        assertEquals(new Credentials("user", "pass:with:colons"), pw.find(null, "h", "x"));
        assertEquals(new Credentials("nocolon", ""), pw.find(null, "n", "x"));
        assertNull(pw.find(null, "other", "x"));
    }

    // ---- mechanisms ----

    @Test
    void plainWithAnInitialResponseWhenThePlainTextOptionsAllowIt() throws Exception {
        ScriptedServer s = server(List.of("PIPELINING", "AUTH LOGIN PLAIN"), "user");
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        List<RecipientResult> r = deliver(s, ctx("smtp_sasl_security_options", "noanonymous"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals(List.of("AUTH PLAIN " + b64("\0user\0" + PASSWORD)), s.commands("AUTH"));
        assertEquals(List.of("user"), authenticated);
        assertTrue(s.lines.indexOf(s.commands("AUTH").get(0)) < s.lines.indexOf(s.commands("MAIL").get(0)));
        assertNoSecretLogged();
    }

    @Test
    void cramMd5IsPreferredAndNotPlainText() throws Exception {
        // default options (noplaintext, noanonymous): CRAM-MD5 qualifies, PLAIN and LOGIN do not
        ScriptedServer s = server(List.of("AUTH PLAIN LOGIN CRAM-MD5"), "tim");
        passwd.put("127.0.0.1", "tim:tanstaaftanstaaf");
        List<RecipientResult> r = deliver(s, ctx());
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals(List.of("AUTH CRAM-MD5"), s.commands("AUTH"));
        // RFC 2195's example
        assertTrue(s.lines.contains(b64("tim b913a602c7eda7a495b4e6e7334d3890")), s.lines.toString());
        assertEquals(List.of("tim"), authenticated);
    }

    @Test
    void loginIsTwoBase64Lines() throws Exception {
        ScriptedServer s = server(List.of("AUTH=LOGIN"), "user");
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        List<RecipientResult> r = deliver(s, ctx("smtp_sasl_security_options", "noanonymous"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals(List.of("AUTH LOGIN"), s.commands("AUTH"));
        List<String> lines = List.copyOf(s.lines);
        int i = lines.indexOf("AUTH LOGIN");
        assertEquals(List.of(b64("user"), b64(PASSWORD)), lines.subList(i + 1, i + 3));
        assertNoSecretLogged();
    }

    @Test
    void theMechanismFilterHidesWhatTheServerOffers() throws Exception {
        ScriptedServer s = server(List.of("AUTH CRAM-MD5 PLAIN LOGIN"), "user");
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        List<RecipientResult> r = deliver(s, ctx("smtp_sasl_security_options", "noanonymous",
                "smtp_sasl_mechanism_filter", "!cram-md5, login, plain"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals(1, s.commands("AUTH PLAIN").size(), s.lines.toString());

        ScriptedServer only = server(List.of("AUTH CRAM-MD5"), "user");
        r = deliver(only, ctx("smtp_sasl_mechanism_filter", "plain"));
        assertResult(r.get(0), Status.DEFERRED, 450, "4.7.0", "SASL authentication failed: server 127.0.0.1[127.0.0.1]"
                + " offered no compatible authentication mechanisms for this type of connection security");
        assertTrue(log.lines().contains("WARN 127.0.0.1[127.0.0.1]:" + only.port()
                + " offered no supported AUTH mechanisms: 'CRAM-MD5'"), log.lines().toString());
        assertEquals(List.of(), only.commands("AUTH"));
        assertEquals(List.of(), only.commands("MAIL"));
    }

    @Test
    void noplaintextRefusesPlainAndLoginOnAPlainTextConnection() throws Exception {
        ScriptedServer s = server(List.of("AUTH PLAIN LOGIN"), "user");
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        List<RecipientResult> r = deliver(s, ctx());
        assertResult(r.get(0), Status.DEFERRED, 450, "4.7.0",
                "SASL authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]: no mechanism available");
        assertEquals(List.of(), s.commands("AUTH"), "no credentials in plain text");
        assertEquals(List.of(), s.commands("MAIL"));
    }

    @Test
    void aMechanismWithoutClientSupportIsNoMechanism() throws Exception {
        ScriptedServer s = server(List.of("AUTH GSSAPI DIGEST-MD5"), "user");
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        List<RecipientResult> r = deliver(s, ctx("smtp_sasl_security_options", ""));
        assertEquals("SASL authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]: "
                + "no mechanism available", r.get(0).reply().text());
    }

    // ---- rejection ----

    @Test
    void a535IsDeferredWithTheServersReplyAsPostfixSoftBounces() throws Exception {
        ScriptedServer s = server(List.of("AUTH PLAIN"), "someone-else");
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        List<RecipientResult> r = deliver(s, ctx("smtp_sasl_security_options", "noanonymous"));
        String text = "SASL authentication failed; server 127.0.0.1[127.0.0.1] said: "
                + "535 5.7.8 Error: authentication failed: authentication failure";
        assertResult(r.get(0), Status.DEFERRED, 450, "4.7.8", text);
        assertEquals("127.0.0.1[127.0.0.1]:" + s.port(), r.get(0).relay());
        assertEquals(List.of(), s.commands("MAIL"));
        assertNoSecretLogged();

        r = deliver(s, ctx("smtp_sasl_security_options", "noanonymous", "smtp_sasl_auth_soft_bounce", "no"));
        assertResult(r.get(0), Status.BOUNCED, 535, "5.7.8", text);
    }

    @Test
    void aSoftFailureTriesTheNextServer() throws Exception {
        ScriptedServer bad = server(List.of("AUTH PLAIN"), "nobody");
        ScriptedServer good = server(List.of("AUTH PLAIN"), "user");
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        List<RecipientResult> r = client().deliver(request(bad.nexthop() + ", " + good.nexthop(), "s@example.org"),
                ctx("smtp_sasl_security_options", "noanonymous"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals("127.0.0.1[127.0.0.1]:" + good.port(), r.get(0).relay());
    }

    @Test
    void aBadChallengeIsAProtocolFailure() throws Exception {
        ScriptedServer s = new ScriptedServer("127.0.0.1", p -> p.serve("220 x ESMTP", List.of("AUTH CRAM-MD5"),
                l -> l.startsWith("AUTH") ? "334 !!not base64!!" : l.startsWith("MAIL") ? "250 2.1.0 Ok" : null));
        servers.add(s);
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        List<RecipientResult> r = deliver(s, ctx());
        assertResult(r.get(0), Status.DEFERRED, 450, "4.7.0", "SASL authentication failed; cannot authenticate to "
                + "server 127.0.0.1[127.0.0.1]: bad protocol / cancel");
        assertEquals(List.of(), s.commands("MAIL"));
    }

    @Test
    void aTableFailureIsALocalDataError() throws Exception {
        ScriptedServer s = server(List.of("AUTH PLAIN"), "user");
        List<RecipientResult> r = deliver(s, ctx("smtp_sasl_password_maps", "missing:table"));
        assertResult(r.get(0), Status.DEFERRED, 450, "4.3.0", "local data error while talking to 127.0.0.1[127.0.0.1]");
        assertTrue(log.lines().contains("WARN 4QUEUEID: smtp_sasl_password_maps lookup error"), log.lines().toString());
    }

    // ---- TLS ----

    @Test
    void theTlsOptionsApplyAfterStartTls() throws Exception {
        SSLContext tls = TlsFixtures.selfSigned("mail.tls.test").serverContext(false);
        List<String> overTls = Collections.synchronizedList(new ArrayList<>());
        ScriptedServer[] self = new ScriptedServer[1];
        self[0] = new ScriptedServer("127.0.0.1", p -> {
            p.reply("220 mail.tls.test ESMTP");
            for (String l = p.line(); l != null; l = p.line()) {
                if (l.startsWith("EHLO")) {
                    p.reply("250-mail.tls.test", "250-STARTTLS", "250 AUTH PLAIN");
                } else if (l.equals("STARTTLS")) {
                    p.reply("220 2.0.0 Ready to start TLS");
                    SSLSocket sock = (SSLSocket) tls.getSocketFactory().createSocket(p.socket, "x", p.socket.getPort(), true);
                    sock.setUseClientMode(false);
                    sock.startHandshake();
                    ScriptedServer.Peer t = self[0].new Peer(sock);
                    t.serve(null, List.of("AUTH PLAIN LOGIN"), new AuthAnswer(List.of("user")));
                    return;
                } else {
                    p.reply("250 2.0.0 Ok");
                }
            }
        });
        servers.add(self[0]);
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        // plain-text options forbid PLAIN; the TLS ones allow it
        List<RecipientResult> r = deliver(self[0], ctx("smtp_tls_security_level", "encrypt",
                "smtp_sasl_tls_security_options", "noanonymous"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals(List.of("user"), authenticated);
        // default: $smtp_sasl_security_options (noplaintext) in TLS too
        r = deliver(self[0], ctx("smtp_tls_security_level", "encrypt"));
        assertEquals("SASL authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]: "
                + "no mechanism available", r.get(0).reply().text());
        assertEquals(List.of("user"), authenticated);
        List<String> lines = List.copyOf(self[0].lines);
        assertEquals(List.of("AUTH PLAIN " + b64("\0user\0" + PASSWORD)), self[0].commands("AUTH"));
        assertTrue(lines.indexOf("STARTTLS") < lines.indexOf(self[0].commands("AUTH").get(0)), "AUTH only over TLS: " + lines);
    }

    // ---- connection reuse ----

    @Test
    void cachedConnectionsAreNeverSharedAcrossCredentials() throws Exception {
        ScriptedServer s = server(List.of("AUTH PLAIN"), "alice", "bob");
        passwd.put("alice@example.org", "alice:" + PASSWORD);
        passwd.put("bob@example.org", "bob:" + PASSWORD);
        PluginContext ctx = ctx("smtp_sasl_security_options", "noanonymous", "smtp_sender_dependent_authentication",
                "yes", "smtp_connection_cache_on_demand", "yes", "smtp_connection_cache_time_limit", "10s");
        for (String sender : List.of("alice@example.org", "bob@example.org", "alice@example.org", "bob@example.org")) {
            List<RecipientResult> r = client().deliver(request(s.nexthop(), sender), ctx);
            assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        }
        assertEquals(2, s.connections.get(), "one session per credential, each reused once");
        assertEquals(List.of("alice", "bob"), authenticated);

        // the table changes under a cached session of the same next hop: it is not reused
        ScriptedServer t = server(List.of("AUTH PLAIN"), "carol", "dave");
        passwd.put("127.0.0.1", "carol:" + PASSWORD);
        PluginContext plain = ctx("smtp_sasl_security_options", "noanonymous", "smtp_connection_cache_on_demand", "yes",
                "smtp_connection_cache_time_limit", "10s");
        assertEquals(Status.DELIVERED, client().deliver(request(t.nexthop(), "x@example.org"), plain).get(0).status());
        passwd.put("127.0.0.1", "dave:" + PASSWORD);
        assertEquals(Status.DELIVERED, client().deliver(request(t.nexthop(), "x@example.org"), plain).get(0).status());
        assertEquals(2, t.connections.get());
        assertEquals(List.of("alice", "bob", "carol", "dave"), authenticated);

        // a session that did not authenticate (no entry then) is not for a delivery that now has credentials
        ScriptedServer u = server(List.of("AUTH PLAIN"), "erin");
        passwd.clear();
        assertEquals(Status.DELIVERED, client().deliver(request(u.nexthop(), "x@example.org"), plain).get(0).status());
        passwd.put("[127.0.0.1]:" + u.port(), "erin:" + PASSWORD);
        assertEquals(Status.DELIVERED, client().deliver(request(u.nexthop(), "x@example.org"), plain).get(0).status());
        assertEquals(2, u.connections.get());
        assertEquals(List.of("alice", "bob", "carol", "dave", "erin"), authenticated);
    }

    @Test
    void aSessionWhoseAuthFailedIsNeverCached() throws Exception {
        ScriptedServer s = server(List.of("AUTH PLAIN"), "nobody");
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        PluginContext ctx = ctx("smtp_sasl_security_options", "noanonymous", "smtp_connection_cache_on_demand", "yes",
                "smtp_connection_cache_time_limit", "10s");
        assertEquals(Status.DEFERRED, deliver(s, ctx).get(0).status());
        assertEquals(0, client().cachedConnections());
        assertTrue(ScriptedServerWait.until(() -> s.commands("QUIT").size() == 1), s.lines.toString());
    }

    @Test
    void lmtpReadsItsOwnParameters() throws Exception {
        ScriptedServer s = server(List.of("PIPELINING", "AUTH PLAIN"), "user");
        passwd.put("127.0.0.1", "user:" + PASSWORD);
        SmtpClient lmtp = new SmtpClient(true, dns, tables, log);
        try {
            List<RecipientResult> r = lmtp.deliver(request(s.nexthop(), "sender@example.org"), context(
                    "lmtp_sasl_auth_enable", "yes", "lmtp_sasl_password_maps", "test:passwd",
                    "lmtp_sasl_security_options", "noanonymous", "smtp_sasl_auth_enable", "no"));
            assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
            assertEquals(1, s.commands("LHLO").size());
            assertEquals(List.of("user"), authenticated);
        } finally {
            lmtp.close();
        }
    }

    /** Polls a condition for up to 5 s (the client's QUIT is written after the result). */
    private static final class ScriptedServerWait {
        static boolean until(java.util.function.BooleanSupplier c) throws InterruptedException {
            for (int i = 0; i < 50 && !c.getAsBoolean(); i++) {
                Thread.sleep(100);
            }
            return c.getAsBoolean();
        }
    }

    // ---- settings and mechanisms on their own ----

    @Test
    void settingsArePostfixs() {
        SaslSettings d = ClientSettings.from(context(), false).sasl();
        assertFalse(d.enabled());
        assertEquals(java.util.Set.of("noplaintext", "noanonymous"), d.securityOptions());
        assertEquals(d.securityOptions(), d.tlsSecurityOptions());
        assertTrue(d.softBounce());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClientSettings.from(context("smtp_sasl_auth_enable", "yes"), false));
        assertEquals("specify a password table via the `smtp_sasl_password_maps' configuration parameter", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ClientSettings.from(ctx("smtp_sasl_security_options", "noplaintext, bogus"), false));
        assertEquals("unknown SASL security options value \"bogus\" in \"noplaintext, bogus\"", e.getMessage());
        assertFalse(ClientSettings.from(ctx("smtp_sender_dependent_authentication", "yes"), true).sasl().senderDependent(),
                "lmtp never looks up the sender (Postfix's smtp_mode)");
    }

    @Test
    void choiceFollowsTheOptions() {
        List<String> all = List.of("LOGIN", "PLAIN", "CRAM-MD5", "SCRAM-SHA-256");
        assertEquals(Mechanism.SCRAM_SHA_256, SaslMechanisms.choose(all, java.util.Set.of("noplaintext")));
        assertEquals(Mechanism.CRAM_MD5, SaslMechanisms.choose(List.of("plain", "cram-md5"), java.util.Set.of("noplaintext")));
        assertEquals(Mechanism.PLAIN, SaslMechanisms.choose(List.of("LOGIN", "PLAIN"), java.util.Set.of("noanonymous")));
        assertNull(SaslMechanisms.choose(List.of("LOGIN", "PLAIN"), java.util.Set.of("noplaintext")));
        assertEquals(Mechanism.SCRAM_SHA_256, SaslMechanisms.choose(all, java.util.Set.of("mutual_auth")));
        assertNull(SaslMechanisms.choose(List.of("CRAM-MD5"), java.util.Set.of("nodictionary")));
    }

    @Test
    void scramSha256MatchesRfc7677() throws Exception {
        // RFC 7677 section 3: user "user", password "pencil"
        ScramExchange x = new ScramExchange(new Credentials("user", "pencil"), "rOprNGfwEbeRWgbNEkqO");
        assertEquals("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", new String(x.initialResponse(), StandardCharsets.UTF_8));
        byte[] fin = x.next(("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
                .getBytes(StandardCharsets.UTF_8));
        assertEquals("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", new String(fin, StandardCharsets.UTF_8));
        assertEquals(0, x.next("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".getBytes(StandardCharsets.UTF_8)).length);

        ScramExchange forged = new ScramExchange(new Credentials("user", "pencil"), "rOprNGfwEbeRWgbNEkqO");
        forged.initialResponse();
        forged.next(("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
                .getBytes(StandardCharsets.UTF_8));
        assertThrows(javax.security.sasl.SaslException.class,
                () -> forged.next("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".getBytes(StandardCharsets.UTF_8)));
    }

    // ---- helpers ----

    private static void assertResult(RecipientResult r, Status status, int code, String dsn, String text) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(new Reply(code, dsn, text), r.reply());
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String unb64(String s) {
        return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
    }

    /**
     * AUTH as a server does it: PLAIN (with or without an initial response), LOGIN, CRAM-MD5 with RFC 2195's
     * challenge; a user in {@code users} with {@link #PASSWORD} (or tim/tanstaaftanstaaf) gets 235, others 535.
     */
    private final class AuthAnswer implements ScriptedServer.Answer {
        private final List<String> users;
        private String state;
        private String loginUser;

        AuthAnswer(List<String> users) {
            this.users = users;
        }

        @Override
        public String to(String line) {
            if (state == null) {
                if (!line.toUpperCase().startsWith("AUTH ")) {
                    return null;
                }
                String[] w = line.split(" ");
                switch (w[1].toUpperCase()) {
                    case "PLAIN" -> {
                        if (w.length > 2) {
                            return plain(w[2]);
                        }
                        state = "plain";
                        return "334 ";
                    }
                    case "LOGIN" -> {
                        state = "login-user";
                        return "334 VXNlcm5hbWU6";
                    }
                    case "CRAM-MD5" -> {
                        state = "cram";
                        return "334 " + b64(CRAM_CHALLENGE);
                    }
                    default -> {
                        return "504 5.5.4 Unrecognized authentication type";
                    }
                }
            }
            String s = state;
            state = null;
            return switch (s) {
                case "plain" -> plain(line);
                case "login-user" -> {
                    loginUser = unb64(line);
                    state = "login-pass";
                    yield "334 UGFzc3dvcmQ6";
                }
                case "login-pass" -> verdict(loginUser, unb64(line));
                case "cram" -> {
                    String[] ur = unb64(line).split(" ");
                    String pw = ur[0].equals("tim") ? "tanstaaftanstaaf" : PASSWORD;
                    yield ur[1].equals(hmacMd5(pw, CRAM_CHALLENGE)) ? verdict(ur[0], pw) : verdict(ur[0], "");
                }
                default -> null;
            };
        }

        private String plain(String response) {
            String[] f = unb64(response).split("\0", -1);
            return f.length == 3 && f[0].isEmpty() ? verdict(f[1], f[2]) : "501 5.5.2 malformed";
        }

        private String verdict(String user, String password) {
            boolean ok = users.contains(user) && (password.equals(PASSWORD)
                    || user.equals("tim") && password.equals("tanstaaftanstaaf"));
            if (ok) {
                authenticated.add(user);
                return "235 2.7.0 Authentication successful";
            }
            return "535 5.7.8 Error: authentication failed: authentication failure";
        }
    }

    private static String hmacMd5(String key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacMD5");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
            return HexFormat.of().formatHex(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
