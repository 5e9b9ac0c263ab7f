package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.estafeta.testing.Peers;
import org.estafeta.testing.PrivateDovecot;
import org.estafeta.testing.PrivatePostfix;
import org.estafeta.testing.ProcessRunner;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SMTP AUTH in Estafeta's smtp client against real peers, as the tutorial's section 5.4 sets it up (Postfix's
 * SASL_README "Enabling SASL authentication in the Postfix SMTP/LMTP client"): Estafeta relays through
 * {@code relayhost = [127.0.0.1]:port} with {@code smtp_sasl_auth_enable}, a {@code hash:} password table built with
 * {@code estafeta postmap}, and {@code smtp_tls_security_level = encrypt}; the relay is a real Postfix whose smtpd
 * offers AUTH only after STARTTLS ({@code smtpd_tls_auth_only}), checks passwords with a real Dovecot
 * ({@code smtpd_sasl_type = dovecot} over Dovecot's auth service on a TCP listener), and relays nothing for
 * clients that did not authenticate. A second smtpd of the same Postfix offers AUTH PLAIN LOGIN without TLS.
 */
class SmtpClientAuthIT {
    static final int RELAY_PORT = 27561; // Postfix: STARTTLS, then AUTH
    static final int PLAIN_AUTH_PORT = 27562; // Postfix: AUTH PLAIN LOGIN without TLS
    static final int SMTPD_PORT = 27563; // Estafeta
    static final int LMTP_PORT = 27564; // Dovecot's LMTP (unused here; the harness always opens it)
    static final int AUTH_PORT = 27565; // Dovecot's auth service, for Postfix's smtpd
    static final String USER = "relay@isp.test";
    static final String PASSWORD = "Tr0ub4dor-relay";
    static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");

    static PrivateDovecot dovecot;
    static PrivatePostfix relay;
    static Path maildirs;

    @TempDir
    static Path certs;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startPeers() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        assumeTrue(PrivateDovecot.availableOrFail());
        Peers.require("/usr/bin/openssl", "openssl");
        dovecot = PrivateDovecot.builder("smtp-client-auth").lmtpPort(LMTP_PORT).user(USER, PASSWORD)
                .config(String.join("\n",
                        "auth_mechanisms = plain login",
                        "service auth {",
                        "  inet_listener postfix-client {",
                        "    address = 127.0.0.1",
                        "    port = " + AUTH_PORT,
                        "  }",
                        "}",
                        ""))
                .start();
        EstafetaTarget.awaitListener(AUTH_PORT); // Dovecot's auth listener

        Path cert = certs.resolve("cert.pem");
        Path key = certs.resolve("key.pem");
        ProcessRunner.run(List.of("/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=mail.isp.test", "-keyout",
                key.toString(), "-out", cert.toString()), 60).ok();

        PrivatePostfix.Builder b = PrivatePostfix.builder("smtp-client-auth");
        maildirs = b.directory().resolve("maildirs");
        b.mainCf(String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = mail.isp.test",
                "mydestination =",
                "mynetworks = 127.0.0.2/32",
                // nothing is accepted from a client that did not authenticate, not even for the local domain
                "smtpd_relay_restrictions = permit_sasl_authenticated, reject",
                "smtpd_sasl_auth_enable = yes",
                "smtpd_sasl_type = dovecot",
                "smtpd_sasl_path = inet:127.0.0.1:" + AUTH_PORT,
                "smtpd_sasl_security_options = noanonymous",
                "smtpd_tls_security_level = may",
                "smtpd_tls_auth_only = yes",
                "smtpd_tls_cert_file = " + b.directory().resolve("cert.pem"),
                "smtpd_tls_key_file = " + b.directory().resolve("key.pem"),
                "smtpd_tls_loglevel = 1",
                "virtual_mailbox_domains = isp.test",
                "virtual_mailbox_base = " + maildirs,
                "virtual_mailbox_maps = inline:{ alice@isp.test=alice/ }",
                "virtual_uid_maps = static:65534",
                "virtual_gid_maps = static:65534",
                ""))
                .masterCf(String.join("\n",
                        "127.0.0.1:" + RELAY_PORT + " inet n - n - - smtpd",
                        "127.0.0.1:" + PLAIN_AUTH_PORT + " inet n - n - - smtpd",
                        "  -o syslog_name=postfix-plain",
                        "  -o smtpd_tls_security_level=none",
                        "  -o smtpd_tls_auth_only=no",
                        ""))
                .file("cert.pem", Files.readString(cert))
                .file("key.pem", Files.readString(key));
        relay = b.start();
        Files.createDirectories(maildirs);
        new ProcessBuilder("chown", "65534:65534", maildirs.toString()).inheritIO().start().waitFor();
    }

    @AfterAll
    static void stopPeers() {
        if (relay != null) {
            relay.close();
        }
        if (dovecot != null) {
            dovecot.close();
        }
    }

    /**
     * The tutorial's client setup: relayhost, smtp_sasl_auth_enable, smtp_sasl_password_maps = hash:, the table
     * built with {@code estafeta postmap}; {@code extraMain} last (later settings win).
     */
    private Gateway startEstafeta(int relayPort, String passwdLine, String extraMain) throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Path passwd = conf.resolve("sasl_passwd");
        Files.writeString(passwd, passwdLine + "\n");
        Files.createDirectories(tmp.resolve("var"));
        TutorialDelivery.postmap(conf, tmp.resolve("var"), passwd);
        return EstafetaTarget.start(tmp, String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = gw.estafeta.test",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "relayhost = [127.0.0.1]:" + relayPort,
                "smtp_sasl_auth_enable = yes",
                "smtp_sasl_password_maps = hash:" + passwd,
                "smtp_tls_security_level = encrypt",
                "smtp_sasl_tls_security_options = noanonymous",
                "minimal_backoff_time = 1h",
                extraMain,
                ""), String.join("\n",
                "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                "qmgr      unix  n       -       n       300     1       qmgr",
                "smtp      unix  -       -       n       -       -       smtp",
                "error     unix  -       -       n       -       -       error",
                ""));
    }

    private static String send(String subject) throws Exception {
        Swaks.Transcript t = Swaks.run(SMTPD_PORT, "--from", "sender@example.org", "--to", "alice@isp.test",
                "--header", "Subject: " + subject, "--body", "body of " + subject);
        Matcher m = QUEUED.matcher(t.last("250 2.0.0"));
        assertTrue(m.find(), t.serverLines().toString());
        return m.group(1);
    }

    private static List<String> arrived() throws IOException {
        Path dir = maildirs.resolve("alice").resolve("new");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                out.add(Files.readString(p, StandardCharsets.ISO_8859_1));
            }
        }
        return out;
    }

    private static String logs(Gateway gw) {
        return "\n--- gateway maillog ---\n" + ItSupport.maillog(gw) + "\n--- postfix maillog ---\n" + relay.maillog()
                + "\n--- dovecot log ---\n" + dovecot.log();
    }

    @Test
    void relayedWithPlainOverTlsAsTheTutorialSetsItUp() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        Gateway gw = startEstafeta(RELAY_PORT, "[127.0.0.1]:" + RELAY_PORT + " " + USER + ":" + PASSWORD, "");
        try {
            EstafetaTarget.awaitListener(SMTPD_PORT);
            String id = send("authenticated relay");
            assertTrue(ItSupport.waitFor(() -> {
                try {
                    return arrived().stream().anyMatch(m -> m.contains("Subject: authenticated relay"));
                } catch (IOException e) {
                    return false;
                }
            }, 60), "nothing arrived at Postfix" + logs(gw));
            String pf = relay.maillog();
            assertTrue(Pattern.compile("smtpd\\[\\d+\\]: \\w+: client=localhost\\[127\\.0\\.0\\.1\\], "
                    + "sasl_method=PLAIN, sasl_username=" + Pattern.quote(USER)).matcher(pf).find(), logs(gw));
            assertTrue(pf.contains("TLS connection established from localhost[127.0.0.1]"), logs(gw));
            String log = ItSupport.maillog(gw);
            assertTrue(Pattern.compile(Pattern.quote(id) + ": to=<alice@isp\\.test>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:"
                    + RELAY_PORT + ", .*dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 Ok: queued as \\w+\\)").matcher(log).find(),
                    logs(gw));
            assertNoSecret(gw);
        } finally {
            gw.stop();
        }
    }

    @Test
    void aWrongPasswordIsDeferredWithPostfixsWording() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        Gateway gw = startEstafeta(RELAY_PORT, "[127.0.0.1]:" + RELAY_PORT + " " + USER + ":wrong-" + PASSWORD, "");
        try {
            EstafetaTarget.awaitListener(SMTPD_PORT);
            String id = send("wrong password");
            Path deferred = gw.queueDirectory().resolve("deferred").resolve(id);
            assertTrue(ItSupport.waitFor(() -> Files.exists(deferred), 60), "not deferred" + logs(gw));
            String reason = "SASL authentication failed; server 127.0.0.1[127.0.0.1] said: "
                    + "535 5.7.8 Error: authentication failed: ";
            String log = ItSupport.maillog(gw);
            assertTrue(Pattern.compile(Pattern.quote(id) + ": to=<alice@isp\\.test>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:"
                    + RELAY_PORT + ", .*dsn=4\\.7\\.8, status=deferred \\(" + Pattern.quote(reason)).matcher(log).find(),
                    logs(gw));
            ItSupport.Result q = ItSupport.estafeta(tmp.resolve("conf"), tmp.resolve("var"), "postqueue", "-p");
            assertTrue(q.stdout().contains("(" + reason), q.output());
            assertTrue(q.stdout().contains(id), q.output());
            // Postfix's side: the AUTH attempt failed, nothing was accepted
            assertTrue(relay.maillog().contains("SASL PLAIN authentication failed"), logs(gw));
            assertTrue(arrived().stream().noneMatch(m -> m.contains("Subject: wrong password")));
            assertNoSecret(gw);
        } finally {
            gw.stop();
        }
    }

    @Test
    void withoutTlsNoplaintextKeepsThePasswordOffTheWire() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        // the plain-text smtpd does offer AUTH PLAIN LOGIN: only the client's security options hold PLAIN back
        String offered = ehlo(PLAIN_AUTH_PORT);
        assertTrue(offered.contains("250-AUTH PLAIN LOGIN"), offered);
        Gateway gw = startEstafeta(PLAIN_AUTH_PORT, "[127.0.0.1]:" + PLAIN_AUTH_PORT + " " + USER + ":" + PASSWORD,
                "smtp_tls_security_level = none");
        try {
            EstafetaTarget.awaitListener(SMTPD_PORT);
            String id = send("no plain text");
            Path deferred = gw.queueDirectory().resolve("deferred").resolve(id);
            assertTrue(ItSupport.waitFor(() -> Files.exists(deferred), 60), "not deferred" + logs(gw));
            String reason = "SASL authentication failed; cannot authenticate to server 127.0.0.1[127.0.0.1]: "
                    + "no mechanism available";
            assertTrue(ItSupport.maillog(gw).contains("dsn=4.7.0, status=deferred (" + reason + ")"), logs(gw));
            ItSupport.Result q = ItSupport.estafeta(tmp.resolve("conf"), tmp.resolve("var"), "postqueue", "-p");
            assertTrue(q.stdout().contains("(" + reason + ")"), q.output());
            // Postfix's smtpd counts the commands of each session: the probe's and Estafeta's were EHLO and QUIT
            Pattern plainSession = Pattern.compile("postfix-plain/smtpd\\[\\d+\\]: disconnect from localhost\\[127\\.0\\.0\\.1\\] "
                    + "ehlo=1 quit=1 commands=2\n");
            assertTrue(ItSupport.waitFor(() -> plainSession.matcher(relay.maillog()).results().count() >= 2, 30), logs(gw));
            assertFalse(relay.maillog().lines().anyMatch(l -> l.contains("postfix-plain/smtpd[") && l.contains(" auth=")),
                    "AUTH was sent in plain text" + logs(gw));
        } finally {
            gw.stop();
        }
    }

    /** The password appears nowhere in the gateway's log, nor its base64 forms in either log. */
    private static void assertNoSecret(Gateway gw) {
        String all = ItSupport.maillog(gw);
        assertFalse(all.contains(PASSWORD), "the password is in the maillog");
        String b64 = java.util.Base64.getEncoder().encodeToString(("\0" + USER + "\0" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        assertFalse(all.contains(b64), "the AUTH exchange is in the maillog");
    }

    /** The EHLO reply of a listener, from a raw socket. */
    private static String ehlo(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            StringBuilder sb = new StringBuilder(in.readLine()).append('\n');
            out.write("EHLO probe.estafeta.test\r\n".getBytes(StandardCharsets.US_ASCII));
            String line;
            do {
                line = in.readLine();
                sb.append(line).append('\n');
            } while (line != null && !line.startsWith("250 "));
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            return sb.toString();
        }
    }
}
