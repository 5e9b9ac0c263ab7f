package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.estafeta;
import static org.estafeta.launcher.ItSupport.maillog;
import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.estafeta.testing.Peers;
import org.estafeta.testing.ProcessRunner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS client certificates against a running gateway, with certificates made by {@code openssl} and presented by
 * {@code swaks --tls-cert}: a CA in {@code smtpd_tls_CAfile}, a client certificate it signed (Trusted), a self-signed
 * one (Untrusted) whose fingerprint, as {@code openssl x509 -fingerprint -sha256} prints it, is listed in
 * {@code relay_clientcerts}. Clients connect from 127.0.0.2, outside {@code mynetworks}, and ask to relay.
 */
class ClientCertificateIT {
    static final int ASK_PORT = 27931;
    static final int REQUIRE_PORT = 27932;
    static final int CCERT_ACCESS_PORT = 27933;
    static final String OPENSSL = "/usr/bin/openssl";
    static final String HOSTNAME = "mx.estafeta.test";

    @TempDir
    static Path tmp;
    static Path conf;
    static Path var;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        Peers.require(OPENSSL, "openssl");
        Peers.require(Peers.SWAKS, "swaks");
        conf = Files.createDirectories(tmp.resolve("conf"));
        var = Files.createDirectories(tmp.resolve("var"));
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=Estafeta Test CA", "-keyout", tmp.resolve("ca.key").toString(), "-out",
                tmp.resolve("ca.pem").toString());
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=laptop.example",
                "-keyout", tmp.resolve("client.key").toString(), "-out", tmp.resolve("client.csr").toString());
        openssl("x509", "-req", "-in", tmp.resolve("client.csr").toString(), "-CA", tmp.resolve("ca.pem").toString(),
                "-CAkey", tmp.resolve("ca.key").toString(), "-CAcreateserial", "-days", "2", "-out",
                tmp.resolve("client.pem").toString());
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=stranger.example", "-keyout", tmp.resolve("stranger.key").toString(), "-out",
                tmp.resolve("stranger.pem").toString());
        String fingerprint = fingerprint(tmp.resolve("stranger.pem"));
        Files.writeString(conf.resolve("relay_clientcerts"), fingerprint + " stranger.example\n");
        // check_ccert_access: the untrusted stranger is let through by its fingerprint (Postfix: "it is OK if the
        // issuing CA is not trusted"), the CA-signed laptop is turned away by its own
        Files.writeString(conf.resolve("ccert_access"), fingerprint + " OK\n"
                + fingerprint(tmp.resolve("client.pem")) + " REJECT certificate withdrawn\n");
        Files.writeString(conf.resolve("main.cf"), String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = " + HOSTNAME,
                "mynetworks = 127.0.0.1/32",
                "relay_domains =",
                "default_transport = discard",
                "smtpd_tls_security_level = may",
                "smtpd_tls_loglevel = 1",
                "smtpd_tls_ask_ccert = yes",
                "smtpd_tls_CAfile = " + tmp.resolve("ca.pem"),
                "relay_clientcerts = hash:" + conf.resolve("relay_clientcerts"),
                "smtpd_relay_restrictions = permit_mynetworks, permit_tls_clientcerts, reject_unauth_destination",
                EstafetaTarget.ALIASES));
        Files.writeString(conf.resolve("master.cf"), String.join("\n",
                "127.0.0.1:" + ASK_PORT + " inet n - n - - smtpd",
                "127.0.0.1:" + REQUIRE_PORT + " inet n - n - - smtpd",
                "  -o smtpd_tls_security_level=encrypt",
                "  -o smtpd_tls_req_ccert=yes",
                "  -o { smtpd_relay_restrictions = permit_mynetworks, permit_tls_all_clientcerts, reject_unauth_destination }",
                "127.0.0.1:" + CCERT_ACCESS_PORT + " inet n - n - - smtpd",
                "  -o { smtpd_relay_restrictions = permit_mynetworks, check_ccert_access hash:"
                        + conf.resolve("ccert_access") + ", reject_unauth_destination }",
                "discard unix - - n - - discard",
                ""));
        assertEquals(0, estafeta(conf, var, "postmap", "hash:" + conf.resolve("relay_clientcerts")).exit());
        assertEquals(0, estafeta(conf, var, "postmap", "hash:" + conf.resolve("ccert_access")).exit());
        gateway = Gateway.start(conf, var, "minimal", Map.of());
        EstafetaTarget.awaitListener(ASK_PORT);
        EstafetaTarget.awaitListener(REQUIRE_PORT);
        EstafetaTarget.awaitListener(CCERT_ACCESS_PORT);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.stop();
        }
    }

    @Test
    void aListedFingerprintRelaysAVerifiedButUnlistedCertificateDoesNot() throws Exception {
        ProcessRunner.Result stranger = swaks(ASK_PORT, "stranger");
        assertTrue(stranger.output().contains("250 2.0.0 Ok: queued as"), stranger.output());
        ProcessRunner.Result trusted = swaks(ASK_PORT, "client");
        assertTrue(trusted.output().contains("554 5.7.1 <x@foreign.example>: Relay access denied"), trusted.output());
        ProcessRunner.Result none = swaks(ASK_PORT, null);
        assertTrue(none.output().contains("554 5.7.1 <x@foreign.example>: Relay access denied"), none.output());
        assertTrue(waitFor(() -> maillog(gateway).contains("Untrusted TLS connection established from unknown[127.0.0.2]")
                && maillog(gateway).contains("Trusted TLS connection established from unknown[127.0.0.2]")
                && maillog(gateway).contains("Anonymous TLS connection established from unknown[127.0.0.2]"), 10),
                maillog(gateway));
    }

    @Test
    void requiredCertificatesAreVerifiedAgainstTheCaFile() throws Exception {
        ProcessRunner.Result trusted = swaks(REQUIRE_PORT, "client");
        assertTrue(trusted.output().contains("250 2.0.0 Ok: queued as"), trusted.output());
        ProcessRunner.Result none = swaks(REQUIRE_PORT, null);
        assertTrue(none.output().contains("421 4.7.1 " + HOSTNAME + " Error: No client certificate presented"),
                none.output());
        ProcessRunner.Result stranger = swaks(REQUIRE_PORT, "stranger");
        assertTrue(stranger.output().contains("421 4.7.1 " + HOSTNAME + " Error: Client certificate not trusted"),
                stranger.output());
        assertTrue(waitFor(() -> maillog(gateway).contains("NOQUEUE: abort: TLS from unknown[127.0.0.2]: No client certificate presented"), 10),
                maillog(gateway));
    }

    @Test
    void checkCcertAccessLooksTheFingerprintUp() throws Exception {
        ProcessRunner.Result stranger = swaks(CCERT_ACCESS_PORT, "stranger");
        assertTrue(stranger.output().contains("250 2.0.0 Ok: queued as"), stranger.output());
        ProcessRunner.Result laptop = swaks(CCERT_ACCESS_PORT, "client");
        assertTrue(laptop.output().contains("554 5.7.1 <laptop.example>: Client certificate rejected: certificate "
                + "withdrawn"), laptop.output());
        ProcessRunner.Result none = swaks(CCERT_ACCESS_PORT, null);
        assertTrue(none.output().contains("554 5.7.1 <x@foreign.example>: Relay access denied"), none.output());
    }

    private static ProcessRunner.Result swaks(int port, String cert) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Peers.SWAKS, "--server", "127.0.0.1:" + port, "--local-interface",
                "127.0.0.2", "--timeout", "20", "--tls", "--from", "a@client.example", "--to", "x@foreign.example"));
        if (cert != null) {
            cmd.addAll(List.of("--tls-cert", tmp.resolve(cert + ".pem").toString(), "--tls-key",
                    tmp.resolve(cert + ".key").toString()));
        }
        return ProcessRunner.run(cmd, 60);
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(OPENSSL);
        cmd.addAll(List.of(args));
        ProcessRunner.run(cmd, 60).ok();
    }

    /** {@code SHA256 Fingerprint=AB:CD:...} as openssl prints it: the form Postfix's tables hold. */
    private static String fingerprint(Path cert) throws Exception {
        ProcessRunner.Result r = ProcessRunner.run(List.of(OPENSSL, "x509", "-in", cert.toString(), "-noout",
                "-fingerprint", "-sha256"), 60);
        r.ok();
        String out = r.output().strip();
        return out.substring(out.indexOf('=') + 1);
    }
}
