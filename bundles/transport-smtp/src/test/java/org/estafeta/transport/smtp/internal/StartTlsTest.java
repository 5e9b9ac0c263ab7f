package org.estafeta.transport.smtp.internal;

import static org.estafeta.transport.smtp.internal.Fixtures.context;
import static org.estafeta.transport.smtp.internal.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.testing.RecordingLogger;
import org.estafeta.transport.smtp.internal.TlsFixtures.Ca;
import org.estafeta.transport.smtp.internal.TlsFixtures.Issued;
import org.estafeta.transport.smtp.internal.TlsFixtures.MapTables;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** STARTTLS in the smtp client against in-process servers whose certificates the test makes. */
class StartTlsTest {
    private static final String HOST = "mail.tls.test";
    private static Ca ca;
    private static Issued trustedCert;
    private static Issued selfSigned;

    @TempDir
    Path dir;
    private final RecordingLogger log = new RecordingLogger("smtp");
    private final List<ScriptedServer> servers = new ArrayList<>();
    /** Commands the servers received over TLS. */
    private final List<String> overTls = Collections.synchronizedList(new ArrayList<>());
    /** Subjects of the client certificates the servers saw. */
    private final List<String> clientCerts = Collections.synchronizedList(new ArrayList<>());
    private MapTables tables = new MapTables(Map.of());
    private SmtpClient smtp;
    private Fixtures.MapResolver dns;
    private String caFile;

    @BeforeAll
    static void certificates() throws Exception {
        ca = new Ca("CN=Estafeta Test CA");
        trustedCert = ca.issue("CN=" + HOST, false, HOST);
        selfSigned = TlsFixtures.selfSigned(HOST);
    }

    @BeforeEach
    void setUp() throws Exception {
        dns = new Fixtures.MapResolver().a(HOST, "127.0.0.1");
        caFile = dir.resolve("ca.pem").toString();
        java.nio.file.Files.writeString(Path.of(caFile), TlsFixtures.pem(ca.self.chain().get(0)));
    }

    @AfterEach
    void tearDown() throws IOException {
        if (smtp != null) {
            smtp.close();
        }
        for (ScriptedServer s : servers) {
            s.close();
        }
    }

    private SmtpClient client() {
        smtp = new SmtpClient(false, dns, tables, log);
        return smtp;
    }

    private PluginContext ctx(String... pairs) {
        List<String> all = new ArrayList<>(List.of("smtp_tls_loglevel", "1", "smtp_starttls_timeout", "5s"));
        all.addAll(List.of(pairs));
        return context(all.toArray(String[]::new));
    }

    /**
     * A server that offers STARTTLS, answers it with {@code startTlsReply} (sent in one write with whatever
     * follows it), and then does TLS with {@code tls} (null: sends garbage and hangs up instead).
     */
    private ScriptedServer starttlsServer(String startTlsReply, SSLContext tls) throws IOException {
        ScriptedServer[] self = new ScriptedServer[1];
        self[0] = new ScriptedServer("127.0.0.1", TlsFixtures.port(), p -> {
            p.reply("220 " + HOST + " ESMTP");
            String l;
            while ((l = p.line()) != null) {
                String cmd = l.toUpperCase();
                if (cmd.startsWith("EHLO")) {
                    p.reply("250-" + HOST, "250-PIPELINING", "250 STARTTLS");
                } else if (cmd.equals("STARTTLS")) {
                    p.out.write(startTlsReply.getBytes(StandardCharsets.ISO_8859_1));
                    p.out.flush();
                    if (tls == null) {
                        p.reply("this is not TLS", "at all");
                        return;
                    }
                    SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(p.socket, HOST, p.socket.getPort(), true);
                    s.setUseClientMode(false);
                    s.setWantClientAuth(true);
                    s.startHandshake();
                    try {
                        java.security.cert.Certificate[] peer = s.getSession().getPeerCertificates();
                        clientCerts.add(((java.security.cert.X509Certificate) peer[0]).getSubjectX500Principal().getName());
                    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                        // no client certificate
                    }
                    afterTls(self[0].new Peer(s));
                    return;
                } else if (cmd.equals("QUIT")) {
                    p.reply("221 Bye");
                    return;
                } else if (cmd.equals("DATA")) {
                    p.reply("354 go");
                    p.data();
                    p.reply("250 2.0.0 Ok (plain)");
                } else {
                    p.reply("250 2.0.0 Ok");
                }
            }
        });
        servers.add(self[0]);
        return self[0];
    }

    /** The session over TLS: EHLO without STARTTLS, then a plain SMTP server; commands recorded in overTls. */
    private void afterTls(ScriptedServer.Peer p) throws IOException {
        String l;
        while ((l = p.line()) != null) {
            overTls.add(l);
            String cmd = l.length() >= 4 ? l.substring(0, 4).toUpperCase() : l;
            switch (cmd) {
                case "EHLO" -> p.reply("250-" + HOST, "250-PIPELINING", "250 SIZE 1000000");
                case "DATA" -> {
                    p.reply("354 go");
                    p.data();
                    p.reply("250 2.0.0 Ok: queued over TLS");
                }
                case "QUIT" -> {
                    p.reply("221 Bye");
                    return;
                }
                default -> p.reply("250 2.0.0 Ok");
            }
        }
    }

    private String nexthop(ScriptedServer s) {
        return "[" + HOST + "]:" + s.port();
    }

    private String relay(ScriptedServer s) {
        return HOST + "[127.0.0.1]:" + s.port();
    }

    @Test
    void mayUsesStartTlsSendsEhloAgainAndDropsWhatWasInjectedBeforeTheHandshake() throws Exception {
        // "554 injected" arrives in the same packet as the 220: taken as the reply to EHLO, delivery would fail
        ScriptedServer s = starttlsServer("220 2.0.0 Ready to start TLS\r\n554 5.7.1 injected\r\n", selfSignedContext());
        List<RecipientResult> r = client().deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_tls_security_level", "may"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals("250 2.0.0 Ok: queued over TLS", r.get(0).reply().text());
        assertEquals(2, s.commands("EHLO").size(), s.lines.toString());
        assertTrue(overTls.get(0).startsWith("EHLO "), overTls.toString());
        assertTrue(overTls.stream().anyMatch(l -> l.startsWith("MAIL FROM:<sender@example.org> SIZE=")), overTls.toString());
        assertTrue(log.lines().stream().anyMatch(l -> l.matches("INFO Untrusted TLS connection established to "
                + java.util.regex.Pattern.quote(relay(s)) + ": TLSv1\\.[23] with cipher \\S+ \\(\\d+/\\d+ bits\\)")),
                log.lines().toString());
    }

    @Test
    void verifyDefersWhenTheCertificateIsNotTrusted() throws Exception {
        ScriptedServer s = starttlsServer("220 2.0.0 Ready\r\n", selfSignedContext());
        List<RecipientResult> r = client().deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_tls_security_level", "verify", "smtp_tls_CAfile", caFile));
        assertEquals(Status.DEFERRED, r.get(0).status(), r.toString());
        assertEquals(new Reply(450, "4.7.5", "Server certificate not verified"), r.get(0).reply());
        assertTrue(overTls.stream().noneMatch(l -> l.startsWith("MAIL")), overTls.toString());
        for (int i = 0; i < 100 && !overTls.contains("QUIT"); i++) {
            Thread.sleep(20); // QUIT is sent without waiting for the reply
        }
        assertTrue(overTls.contains("QUIT"), "QUIT is sent over TLS: " + overTls);
    }

    @Test
    void verifyAndSecureWithTheCaFile() throws Exception {
        ScriptedServer s = starttlsServer("220 2.0.0 Ready\r\n", trustedCert.serverContext(true));
        client();
        for (String level : List.of("verify", "secure")) {
            List<RecipientResult> r = smtp.deliver(request(nexthop(s), "a@example.com"),
                    ctx("smtp_tls_security_level", level, "smtp_tls_CAfile", caFile));
            assertEquals(Status.DELIVERED, r.get(0).status(), level + ": " + r + "\n" + log.lines());
        }
        assertTrue(log.lines().stream().filter(l -> l.startsWith("INFO Verified TLS connection established to "
                + relay(s) + ": TLSv1.")).count() == 2, log.lines().toString());
        // trusted, but the name does not match the policy's match list
        List<RecipientResult> r = smtp.deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_tls_security_level", "secure", "smtp_tls_CAfile", caFile,
                        "smtp_tls_secure_cert_match", "other.test"));
        assertEquals(new Reply(450, "4.7.5", "Server certificate not verified"), r.get(0).reply());
        assertTrue(log.lines().stream().anyMatch(l -> l.startsWith("INFO Trusted TLS connection established to ")),
                log.lines().toString());
        // at may, a trusted certificate is logged as Trusted
        assertEquals(Status.DELIVERED, smtp.deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_tls_security_level", "may", "smtp_tls_CApath", dir.toString())).get(0).status());
    }

    @Test
    void clientCertificateFromPemFiles() throws Exception {
        ScriptedServer s = starttlsServer("220 2.0.0 Ready\r\n", trustedCert.serverContext(true));
        Issued client = ca.issue("CN=client.estafeta.test", true, "client.estafeta.test");
        Path cert = dir.resolve("client.pem");
        Path key = dir.resolve("client.key");
        client.write(cert, key);
        List<RecipientResult> r = client().deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_tls_security_level", "encrypt", "smtp_tls_cert_file", cert.toString(),
                        "smtp_tls_key_file", key.toString()));
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals(List.of("CN=client.estafeta.test"), clientCerts);
    }

    @Test
    void handshakeFailureAtMayIsRetriedInPlainText() throws Exception {
        ScriptedServer s = starttlsServer("220 2.0.0 Ready\r\n", null);
        List<RecipientResult> r = client().deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_tls_security_level", "may"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
        assertEquals(2, s.connections.get());
        assertEquals(1, s.commands("STARTTLS").size(), "the retry does not send STARTTLS: " + s.lines);
        assertEquals("250 2.0.0 Ok (plain)", r.get(0).reply().text());

        List<RecipientResult> e = smtp.deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_tls_security_level", "encrypt"));
        assertEquals(new Reply(450, "4.7.5", "Cannot start TLS: handshake failure"), e.get(0).reply());
        assertEquals(3, s.connections.get());
    }

    @Test
    void encryptWithoutStartTlsDefersAndRefusalIsReported() throws Exception {
        ScriptedServer plain = new ScriptedServer("127.0.0.1", TlsFixtures.port(),
                p -> p.serve("220 plain ESMTP", List.of("PIPELINING"), null));
        servers.add(plain);
        List<RecipientResult> r = client().deliver(request("[127.0.0.1]:" + plain.port(), "a@example.com"),
                ctx("smtp_tls_security_level", "encrypt"));
        assertEquals(new Reply(450, "4.7.4", "TLS is required, but was not offered by host 127.0.0.1[127.0.0.1]"),
                r.get(0).reply());
        assertEquals(Status.DEFERRED, r.get(0).status());
        assertTrue(plain.commands("MAIL").isEmpty());

        ScriptedServer refusing = new ScriptedServer("127.0.0.1", TlsFixtures.port(),
                p -> p.serve("220 refusing ESMTP", List.of("STARTTLS"),
                        l -> l.equalsIgnoreCase("STARTTLS") ? "454 4.7.0 TLS not available due to local problem" : null));
        servers.add(refusing);
        r = smtp.deliver(request("[127.0.0.1]:" + refusing.port(), "a@example.com"),
                ctx("smtp_tls_security_level", "encrypt"));
        assertEquals(new Reply(454, "4.7.0", "TLS is required, but host 127.0.0.1[127.0.0.1] refused to start TLS: "
                + "454 4.7.0 TLS not available due to local problem"), r.get(0).reply());
        // at may, the refusal leaves plain text
        r = smtp.deliver(request("[127.0.0.1]:" + refusing.port(), "a@example.com"), ctx("smtp_tls_security_level", "may"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r.toString());
    }

    @Test
    void policyMapsOverrideTheLevelPerDestination() throws Exception {
        ScriptedServer plain = new ScriptedServer("127.0.0.1", TlsFixtures.port(),
                p -> p.serve("220 plain ESMTP", List.of(), null));
        servers.add(plain);
        String dest = "[127.0.0.1]:" + plain.port();
        tables = new MapTables(Map.of("test:policy", Map.of(dest, "encrypt protocols=>=TLSv1.2",
                "[127.0.0.2]:" + plain.port(), "bogus")));
        List<RecipientResult> r = client().deliver(request(dest, "a@example.com"),
                ctx("smtp_tls_policy_maps", "test:policy"));
        assertEquals("4.7.4", r.get(0).reply().enhancedStatus(), r.toString());
        assertEquals(List.of("test:policy " + dest), tables.asked);

        r = smtp.deliver(request("[127.0.0.2]:" + plain.port(), "a@example.com"),
                ctx("smtp_tls_policy_maps", "test:policy"));
        assertEquals(new Reply(450, "4.7.5", "client TLS configuration problem"), r.get(0).reply());
        assertTrue(log.lines().contains("WARN smtp_tls_policy_maps, next-hop destination \"[127.0.0.2]:" + plain.port()
                + "\": invalid security level \"bogus\""), log.lines().toString());
    }

    @Test
    void policyLookupKeysForADomainAndItsParents() {
        MapTables t = new MapTables(Map.of("test:p", Map.of(".example.com", "secure match=.example.com:mx.other.test")));
        TlsSettings s = ClientSettings.from(context("smtp_tls_policy_maps", "test:p"), false).tls();
        TlsSettings.Policy p = s.policy(NextHop.parse("Sub.Example.com", false), t, log);
        assertEquals(List.of("test:p sub.example.com", "test:p .example.com"), t.asked);
        assertEquals(TlsLevel.SECURE, p.level());
        assertEquals(List.of(".example.com", "mx.other.test"), p.match());
        assertNull(p.invalid());
        assertEquals(TlsLevel.NONE, s.policy(NextHop.parse("example.org", false), t, log).level());
    }

    @Test
    void postfix20NamesWhenTheLevelIsNotSet() {
        assertEquals(TlsLevel.NONE, level());
        assertEquals(TlsLevel.MAY, level("smtp_use_tls", "yes"));
        assertEquals(TlsLevel.VERIFY, level("smtp_enforce_tls", "yes"));
        assertEquals(TlsLevel.ENCRYPT, level("smtp_enforce_tls", "yes", "smtp_tls_enforce_peername", "no"));
        assertEquals(TlsLevel.NONE, level("smtp_use_tls", "yes", "smtp_tls_security_level", "none"));
        assertEquals(TlsLevel.SECURE, level("smtp_enforce_tls", "yes", "smtp_tls_security_level", "secure"));
    }

    private static TlsLevel level(String... pairs) {
        return ClientSettings.from(context(pairs), false).tls().level();
    }

    @Test
    void oldNamesDeliver() throws Exception {
        ScriptedServer s = starttlsServer("220 2.0.0 Ready\r\n", selfSignedContext());
        client();
        assertEquals(Status.DELIVERED, smtp.deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_use_tls", "yes")).get(0).status());
        assertEquals(1, s.commands("STARTTLS").size());
        // smtp_enforce_tls = yes verifies the peer name: the self-signed certificate is refused
        assertEquals("Server certificate not verified", smtp.deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_enforce_tls", "yes")).get(0).reply().text());
        assertEquals(Status.DELIVERED, smtp.deliver(request(nexthop(s), "a@example.com"),
                ctx("smtp_enforce_tls", "yes", "smtp_tls_enforce_peername", "no")).get(0).status());
    }

    @Test
    void cachedConnectionsKeepTlsAndPlainOnesAreNotUsedWhenTlsIsRequired() throws Exception {
        ScriptedServer s = starttlsServer("220 2.0.0 Ready\r\n", selfSignedContext());
        client();
        String[] cache = {"smtp_connection_cache_on_demand", "yes", "smtp_connection_cache_time_limit", "5s"};
        List<String> may = new ArrayList<>(List.of(cache));
        may.addAll(List.of("smtp_tls_security_level", "may"));
        for (int i = 0; i < 2; i++) {
            assertEquals("250 2.0.0 Ok: queued over TLS", smtp.deliver(request(nexthop(s), "a@example.com"),
                    ctx(may.toArray(String[]::new))).get(0).reply().text());
        }
        assertEquals(1, s.connections.get(), "the TLS connection was reused");
        assertEquals(1, s.commands("STARTTLS").size());

        ScriptedServer plain = new ScriptedServer("127.0.0.1", TlsFixtures.port(),
                p -> p.serve("220 plain ESMTP", List.of("PIPELINING"), null));
        servers.add(plain);
        String dest = "[127.0.0.1]:" + plain.port();
        assertEquals(Status.DELIVERED, smtp.deliver(request(dest, "a@example.com"), ctx(cache)).get(0).status());
        List<String> enc = new ArrayList<>(List.of(cache));
        enc.addAll(List.of("smtp_tls_security_level", "encrypt"));
        List<RecipientResult> r = smtp.deliver(request(dest, "a@example.com"), ctx(enc.toArray(String[]::new)));
        assertEquals("4.7.4", r.get(0).reply().enhancedStatus(), r.toString());
        assertEquals(2, plain.connections.get(), "the cached plain connection was not used");
    }

    private static SSLContext selfSignedContext() throws Exception {
        return selfSigned.serverContext(false);
    }
}
