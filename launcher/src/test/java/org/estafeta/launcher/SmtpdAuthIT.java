package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.maillog;
import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.estafeta.testing.Peers;
import org.estafeta.testing.PrivateDovecot;
import org.estafeta.testing.PrivatePostfix;
import org.estafeta.testing.ProcessRunner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SMTP AUTH in Estafeta's smtpd with real peers, as tutorial sections 5.2 to 5.4 set it up: the section 5.3 main.cf
 * SASL block and recipient restrictions verbatim, AUTH on one port only through master.cf's
 * {@code -o smtpd_sasl_auth_enable=yes}; users made with {@code estafeta saslpasswd}; swaks with PLAIN, LOGIN and
 * CRAM-MD5 over STARTTLS; a real Postfix relaying through Estafeta with
 * {@code smtp_sasl_password_maps} (section 5.4); a port whose passwords a real Dovecot checks
 * ({@code smtpd_sasl_type = dovecot}); and password guessing met by 535 and then the AUTH rate limit. Clients come
 * from 127.0.0.2 or 127.0.0.3, outside {@code mynetworks}.
 */
class SmtpdAuthIT {
    static final int SMTP_PORT = 27941; // the tutorial's "smtp": no AUTH
    static final int AUTH_PORT = 27942; // the tutorial's "8025": -o smtpd_sasl_auth_enable=yes
    static final int TLS_ONLY_PORT = 27943; // AUTH only after STARTTLS
    static final int GUARDED_PORT = 27944; // smtpd_client_auth_rate_limit = 3
    static final int DOVECOT_SASL_PORT = 27945; // smtpd_sasl_type = dovecot
    static final int DOVECOT_AUTH = 27946; // Dovecot's auth service
    static final int DOVECOT_LMTP = 27947; // unused (the harness always opens it)
    static final int POSTFIX_PORT = 27948; // the Postfix that relays through Estafeta
    static final int SUBMISSION_PORT = 27949; // as Postfix's submission entry: TLS required, then AUTH
    static final String MYDOMAIN = "estafeta.test";
    static final String HOSTNAME = "mx." + MYDOMAIN;
    static final String PASSWORD = "c0rrect-horse";

    @TempDir
    static Path tmp;
    static Path conf;
    static Path var;
    static Gateway gateway;
    static PrivateDovecot dovecot;

    @BeforeAll
    static void start() throws Exception {
        Peers.require(Peers.SWAKS, "swaks");
        assumeTrue(PrivateDovecot.availableOrFail());
        dovecot = PrivateDovecot.builder("smtpd-auth").lmtpPort(DOVECOT_LMTP).user("ana@" + MYDOMAIN, "dovecot-pass")
                .config(String.join("\n",
                        "auth_mechanisms = plain login",
                        "auth_failure_delay = 0",
                        "service auth {",
                        "  inet_listener estafeta {",
                        "    address = 127.0.0.1",
                        "    port = " + DOVECOT_AUTH,
                        "  }",
                        "}",
                        ""))
                .start();
        EstafetaTarget.awaitListener(DOVECOT_AUTH);

        conf = Files.createDirectories(tmp.resolve("conf"));
        var = Files.createDirectories(tmp.resolve("var"));
        // tutorial 5.3: main.cf's SASL block and the recipient restrictions as written (AUTH enabled per port)
        Files.writeString(conf.resolve("main.cf"), String.join("\n",
                EstafetaTarget.ALIASES,
                "compatibility_level = 3.6",
                "myhostname = " + HOSTNAME,
                "mydomain = " + MYDOMAIN,
                "mynetworks = 127.0.0.1/32",
                "relay_domains =",
                "default_transport = discard",
                "smtpd_tls_security_level = may",
                "",
                "# CONFIGURACION SASL",
                "broken_sasl_auth_clients    = yes",
                "smtpd_sasl_local_domain    = $mydomain",
                "#smtpd_sasl_auth_enable    = yes",
                "",
                "# CONTROL DE CORREO ENTRANTE / SALIENTE",
                "smtpd_recipient_restrictions =",
                "    permit_sasl_authenticated",
                "    permit_mynetworks",
                "    reject_unauth_destination",
                ""));
        Files.writeString(conf.resolve("master.cf"), String.join("\n",
                "127.0.0.1:" + SMTP_PORT + "      inet  n       -       n       -       -       smtpd",
                "127.0.0.1:" + AUTH_PORT + "     inet  n       -       n       -       -       smtpd  -o smtpd_sasl_auth_enable=yes",
                "127.0.0.1:" + TLS_ONLY_PORT + " inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes",
                "127.0.0.1:" + GUARDED_PORT + " inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes",
                "  -o smtpd_client_auth_rate_limit=3 -o smtpd_client_event_limit_exceptions=",
                "127.0.0.1:" + DOVECOT_SASL_PORT + " inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes",
                "  -o smtpd_sasl_type=dovecot -o smtpd_sasl_path=inet:127.0.0.1:" + DOVECOT_AUTH,
                "  -o smtpd_sasl_local_domain=",
                "127.0.0.1:" + SUBMISSION_PORT + " inet n - n - - smtpd",
                "  -o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes",
                "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
                "discard unix - - n - - discard",
                ""));
        // tutorial 5.1's saslpasswd, with the realm = $mydomain; juan also gets the CRAM-MD5 secret
        saslpasswd(PASSWORD, "-c", "-p", "-u", MYDOMAIN, "-m", "CRAM-MD5", "juan");
        saslpasswd("relay-pass", "-c", "-p", "-u", MYDOMAIN, "postfix-relay");
        ProcessRunner.Result list = ProcessRunner.run(List.of(ItSupport.home().resolve("bin/estafeta").toString(), "-c",
                conf.toString(), "saslpasswd", "-l"), Map.of("ESTAFETA_VAR", var.toString()), "", 60);
        assertTrue(list.output().contains("juan@" + MYDOMAIN), list.output());
        assertFalse(Files.readString(conf.resolve("sasldb")).contains(PASSWORD), "the password file holds no password");
        gateway = Gateway.start(conf, var, "minimal", Map.of());
        for (int port : List.of(SMTP_PORT, AUTH_PORT, TLS_ONLY_PORT, GUARDED_PORT, DOVECOT_SASL_PORT, SUBMISSION_PORT)) {
            EstafetaTarget.awaitListener(port);
        }
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.stop();
        }
        if (dovecot != null) {
            dovecot.close();
        }
    }

    @Test
    void authIsOfferedOnTheAuthPortOnlyWithTheLineOldClientsNeed() throws Exception {
        List<String> plain = ehlo(SMTP_PORT);
        assertTrue(plain.stream().noneMatch(l -> l.contains("AUTH")), plain::toString);
        List<String> auth = ehlo(AUTH_PORT);
        assertTrue(auth.contains("250-AUTH SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN"), auth::toString);
        assertTrue(auth.contains("250-AUTH=SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN"), auth::toString);
    }

    @Test
    void swaksAuthenticatesWithEachMechanismAndMayThenRelay() throws Exception {
        for (String mechanism : List.of("PLAIN", "LOGIN", "CRAM-MD5")) {
            ProcessRunner.Result r = swaks(AUTH_PORT, "--tls", "--auth", mechanism, "--auth-user", "juan",
                    "--auth-password", PASSWORD);
            assertTrue(r.output().contains("235 2.7.0 Authentication successful"), mechanism + ": " + r.output());
            assertTrue(r.output().contains("250 2.0.0 Ok: queued as"), mechanism + ": " + r.output());
        }
        // the same client without AUTH may not relay (454: compatibility_level 3.6's smtpd_relay_restrictions end in
        // defer_unauth_destination, before the tutorial's recipient restrictions are reached, as with Postfix)
        ProcessRunner.Result anonymous = swaks(AUTH_PORT, "--tls");
        assertTrue(anonymous.output().contains("454 4.7.1 <x@foreign.example>: Relay access denied"), anonymous.output());
        assertTrue(waitFor(() -> maillog(gateway).contains("client=unknown[127.0.0.2], sasl_method=CRAM-MD5, sasl_username=juan"), 10),
                maillog(gateway));
        assertFalse(maillog(gateway).contains(PASSWORD), "no password in the log");
    }

    @Test
    void withTlsAuthOnlyAuthComesAfterStarttls() throws Exception {
        List<String> before = ehlo(TLS_ONLY_PORT);
        assertTrue(before.stream().noneMatch(l -> l.contains("AUTH")), before::toString);
        ProcessRunner.Result r = swaks(TLS_ONLY_PORT, "--tls", "--auth", "PLAIN", "--auth-user", "juan",
                "--auth-password", PASSWORD);
        // swaks's transcript: the EHLO reply in plain text has no AUTH line, the one inside TLS has it
        String out = r.output();
        int tls = out.indexOf("220 2.0.0 Ready to start TLS");
        assertTrue(tls > 0, out);
        assertFalse(out.substring(0, tls).contains("AUTH"), out);
        assertTrue(out.substring(tls).contains("250-AUTH SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN"), out);
        assertTrue(out.contains("250 2.0.0 Ok: queued as"), out);
    }

    @Test
    void theSubmissionPortWantsTlsThenAuth() throws Exception {
        List<String> ehlo = ehlo(SUBMISSION_PORT);
        assertTrue(ehlo.contains("250-STARTTLS"), ehlo::toString);
        assertTrue(ehlo.stream().noneMatch(l -> l.contains("AUTH")), "no AUTH before TLS at level encrypt: " + ehlo);
        // a client that tries anyway, in plain text: Postfix's answer at level encrypt
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", SUBMISSION_PORT), 5000);
            socket.setSoTimeout(20_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = socket.getOutputStream();
            in.readLine();
            String ir = Base64.getEncoder().encodeToString(("\0juan\0" + PASSWORD).getBytes(StandardCharsets.UTF_8));
            out.write(("AUTH PLAIN " + ir + "\r\n").getBytes(StandardCharsets.US_ASCII));
            assertEquals("530 5.7.0 Must issue a STARTTLS command first", in.readLine());
        }
        ProcessRunner.Result noAuth = swaks(SUBMISSION_PORT, "--tls");
        assertTrue(noAuth.output().contains("554 5.7.1 <x@foreign.example>: Recipient address rejected: Access denied"),
                noAuth.output());
        ProcessRunner.Result ok = swaks(SUBMISSION_PORT, "--tls", "--auth", "PLAIN", "--auth-user", "juan",
                "--auth-password", PASSWORD);
        assertTrue(ok.output().contains("235 2.7.0 Authentication successful"), ok.output());
        assertTrue(ok.output().contains("250 2.0.0 Ok: queued as"), ok.output());
    }

    @Test
    void guessedPasswordsGet535ThenTheRateLimitStopsThem() throws Exception {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
            socket.connect(new InetSocketAddress("127.0.0.1", GUARDED_PORT), 5000);
            socket.setSoTimeout(20_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = socket.getOutputStream();
            assertTrue(in.readLine().startsWith("220 "));
            out.write("EHLO guesser.example\r\n".getBytes(StandardCharsets.US_ASCII));
            String line;
            do {
                line = in.readLine();
            } while (line != null && !line.startsWith("250 "));
            List<String> replies = new ArrayList<>();
            for (String guess : List.of("123456", "password", "qwerty", PASSWORD)) {
                String ir = Base64.getEncoder().encodeToString(("\0juan\0" + guess).getBytes(StandardCharsets.UTF_8));
                out.write(("AUTH PLAIN " + ir + "\r\n").getBytes(StandardCharsets.US_ASCII));
                replies.add(in.readLine());
            }
            assertEquals(List.of("535 5.7.8 Error: authentication failed: authentication failure",
                    "535 5.7.8 Error: authentication failed: authentication failure",
                    "535 5.7.8 Error: authentication failed: authentication failure",
                    "450 4.7.1 Error: too many AUTH commands from 127.0.0.2"), replies);
        }
        assertTrue(waitFor(() -> maillog(gateway).contains("warning: AUTH command rate limit exceeded: 4 from unknown[127.0.0.2] for service "), 10),
                maillog(gateway));
        assertTrue(maillog(gateway).contains("warning: unknown[127.0.0.2]: SASL PLAIN authentication failed: authentication failure"),
                maillog(gateway));
    }

    @Test
    void dovecotChecksThePasswordsOfItsPort() throws Exception {
        List<String> ehlo = ehlo(DOVECOT_SASL_PORT);
        assertTrue(ehlo.contains("250-AUTH PLAIN LOGIN"), ehlo::toString);
        ProcessRunner.Result ok = swaks(DOVECOT_SASL_PORT, "--tls", "--auth", "LOGIN", "--auth-user", "ana@" + MYDOMAIN,
                "--auth-password", "dovecot-pass");
        assertTrue(ok.output().contains("235 2.7.0 Authentication successful"), ok.output());
        assertTrue(ok.output().contains("250 2.0.0 Ok: queued as"), ok.output());
        ProcessRunner.Result bad = swaks(DOVECOT_SASL_PORT, "--tls", "--auth", "PLAIN", "--auth-user", "ana@" + MYDOMAIN,
                "--auth-password", "wrong");
        assertTrue(bad.output().contains("535 5.7.8 Error: authentication failed:"), bad.output());
    }

    /** Tutorial 5.4: a real Postfix relays through Estafeta's AUTH port with smtp_sasl_password_maps and STARTTLS. */
    @Test
    void postfixRelaysThroughEstafetaWithItsPasswordMap() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        PrivatePostfix.Builder b = PrivatePostfix.builder("relays-through-estafeta");
        try (PrivatePostfix postfix = b.mainCf(String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = office.example",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "relayhost = [127.0.0.1]:" + AUTH_PORT,
                "smtp_bind_address = 127.0.0.3",
                "# CONFIGURACION SASL",
                "smtp_sasl_password_maps = hash:" + b.directory().resolve("auth_passwd"),
                "smtp_sasl_auth_enable = yes",
                "smtp_sasl_security_options = noplaintext",
                "smtp_sasl_tls_security_options = noanonymous",
                "smtp_tls_security_level = encrypt",
                ""))
                .masterCf("127.0.0.1:" + POSTFIX_PORT + " inet n - n - - smtpd\n")
                .file("auth_passwd", "[127.0.0.1]:" + AUTH_PORT + "    postfix-relay@" + MYDOMAIN + ":relay-pass\n")
                .postmap("hash", "auth_passwd")
                .start()) {
            ProcessRunner.Result r = ProcessRunner.run(List.of(Peers.SWAKS, "--server", "127.0.0.1:" + POSTFIX_PORT,
                    "--timeout", "20", "--from", "boss@office.example", "--to", "partner@foreign.example",
                    "--header", "Subject: via postfix and estafeta"), 60);
            assertTrue(r.output().contains("250 2.0.0 Ok: queued as"), r.output());
            // Postfix's Cyrus client picks the strongest mechanism both sides have: SCRAM-SHA-256 here
            assertTrue(waitFor(() -> maillog(gateway).contains(
                    "client=unknown[127.0.0.3], sasl_method=SCRAM-SHA-256, sasl_username=postfix-relay@" + MYDOMAIN), 60),
                    maillog(gateway) + "\n--- postfix:\n" + postfix.maillog());
            assertTrue(waitFor(() -> postfix.maillog().contains("relay=127.0.0.1[127.0.0.1]:" + AUTH_PORT)
                    && postfix.maillog().contains("status=sent"), 30), postfix.maillog());
        }
    }

    // ---- helpers ----

    private static void saslpasswd(String password, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ItSupport.home().resolve("bin/estafeta").toString(), "-c",
                conf.toString(), "saslpasswd"));
        cmd.addAll(List.of(args));
        ProcessRunner.Result r = ProcessRunner.run(cmd, Map.of("ESTAFETA_VAR", var.toString()), password + "\n", 60);
        assertEquals(0, r.exit(), r.output());
    }

    private static ProcessRunner.Result swaks(int port, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Peers.SWAKS, "--server", "127.0.0.1:" + port, "--local-interface",
                "127.0.0.2", "--timeout", "20", "--from", "juan@" + MYDOMAIN, "--to", "x@foreign.example"));
        cmd.addAll(List.of(extra));
        return ProcessRunner.run(cmd, 60);
    }

    private static List<String> ehlo(int port) throws Exception {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(20_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = socket.getOutputStream();
            in.readLine();
            out.write("EHLO simbad.example\r\n".getBytes(StandardCharsets.US_ASCII));
            List<String> lines = new ArrayList<>();
            String line;
            do {
                line = in.readLine();
                lines.add(line);
            } while (line != null && !line.startsWith("250 "));
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            return lines;
        }
    }
}
