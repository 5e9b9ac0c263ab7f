package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import org.estafeta.testing.Peers;
import org.estafeta.testing.ProcessRunner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * STARTTLS against a running gateway with real peers: {@code openssl s_client -starttls smtp} and
 * {@code swaks --tls}. Port 27925 offers TLS ({@code may}) with the certificate the gateway generates; port 27926
 * requires it ({@code encrypt}) with a PEM pair made by {@code openssl req}. The STARTTLS command injection is sent
 * in one write from a raw socket.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StarttlsIT {
    static final int MAY_PORT = 27925;
    static final int ENCRYPT_PORT = 27926;
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
        conf = Files.createDirectories(tmp.resolve("conf"));
        var = Files.createDirectories(tmp.resolve("var"));
        Path cert = tmp.resolve("pem-cert.pem");
        Path key = tmp.resolve("pem-key.pem");
        ProcessRunner.run(List.of(OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "2", "-subj", "/CN=pem.estafeta.test", "-keyout", key.toString(), "-out",
                cert.toString()), 60).ok();
        Files.writeString(conf.resolve("main.cf"), String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = " + HOSTNAME,
                "mynetworks = 127.0.0.0/8",
                "smtpd_tls_security_level = may",
                "smtpd_tls_loglevel = 1",
                ""));
        Files.writeString(conf.resolve("master.cf"), String.join("\n",
                "127.0.0.1:" + MAY_PORT + " inet n - n - - smtpd",
                "127.0.0.1:" + ENCRYPT_PORT + " inet n - n - - smtpd",
                "  -o smtpd_tls_security_level=encrypt",
                "  -o smtpd_tls_cert_file=" + cert,
                "  -o smtpd_tls_key_file=" + key,
                "  -o smtpd_tls_mandatory_protocols=>=TLSv1.2",
                ""));
        gateway = Gateway.start(conf, var, "minimal", Map.of());
        assertTrue(waitFor(() -> banner(MAY_PORT).startsWith("220 ") && banner(ENCRYPT_PORT).startsWith("220 "), 30));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.stop();
        }
    }

    @Test
    @Order(1)
    void opensslNegotiatesWithTheGeneratedCertificate() throws Exception {
        ProcessRunner.Result r = sClient(MAY_PORT);
        assertTrue(r.output().contains("TLSv1.3"), r.output());
        assertTrue(r.output().contains("CN = " + HOSTNAME) || r.output().contains("CN=" + HOSTNAME), r.output());
        assertTrue(r.output().contains("221 2.0.0 Bye"), r.output());
        assertTrue(Files.exists(var.resolve("lib/tls/smtpd-cert.pem")), "kept under $data_directory/tls");
        assertTrue(waitFor(() -> maillog().matches("(?s).*Anonymous TLS connection established from \\S+\\[127\\.0\\.0\\.1\\]: "
                + "TLSv1\\.3 with cipher \\S+ \\(\\d+/\\d+ bits\\).*"), 10), maillog());
    }

    @Test
    @Order(2)
    void swaksSendsAMessageOverTls() throws Exception {
        ProcessRunner.Result r = swaks(MAY_PORT, "--tls");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("220 2.0.0 Ready to start TLS"), r.output());
        assertTrue(r.output().contains("250 2.0.0 Ok: queued as"), r.output());
    }

    @Test
    @Order(3)
    void encryptWithAnOpensslMadePemPair() throws Exception {
        ProcessRunner.Result plain = swaks(ENCRYPT_PORT);
        assertTrue(plain.output().contains("530 5.7.0 Must issue a STARTTLS command first"), plain.output());
        ProcessRunner.Result tls = swaks(ENCRYPT_PORT, "--tls");
        assertEquals(0, tls.exit(), tls.output());
        assertTrue(tls.output().contains("250 2.0.0 Ok: queued as"), tls.output());
        ProcessRunner.Result s = sClient(ENCRYPT_PORT);
        assertTrue(s.output().contains("pem.estafeta.test"), s.output());
    }

    @Test
    @Order(4)
    void plaintextPipelinedAfterStarttlsIsNeverExecuted() throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", MAY_PORT), 5000);
            socket.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = socket.getOutputStream();
            assertTrue(in.readLine().startsWith("220 "));
            out.write("EHLO injector.example\r\n".getBytes(StandardCharsets.US_ASCII));
            String line;
            do {
                line = in.readLine();
            } while (line != null && !line.startsWith("250 "));
            out.write("STARTTLS\r\nNOOP\r\n".getBytes(StandardCharsets.US_ASCII)); // one write: the 2011 injection
            out.flush();
            assertEquals("220 2.0.0 Ready to start TLS", in.readLine());
            SSLSocket tls = (SSLSocket) trustAll().getSocketFactory().createSocket(socket, "127.0.0.1", MAY_PORT, true);
            tls.startHandshake();
            tls.setSoTimeout(1500);
            BufferedReader tin = new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.ISO_8859_1));
            try {
                String unexpected = tin.readLine();
                throw new AssertionError("the injected NOOP was answered: " + unexpected);
            } catch (SocketTimeoutException expected) {
                // nothing: the plaintext NOOP was thrown away
            }
            tls.setSoTimeout(10_000);
            tls.getOutputStream().write("NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("250 2.0.0 Ok", tin.readLine());
            tls.getOutputStream().write("MAIL FROM:<a@example.com>\r\n".getBytes(StandardCharsets.US_ASCII));
            // RFC 3207: the EHLO before STARTTLS is forgotten, yet Postfix does not require a new one for MAIL
            assertEquals("250 2.1.0 Ok", tin.readLine());
            tls.getOutputStream().write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("221 2.0.0 Bye", tin.readLine());
        }
        assertTrue(waitFor(() -> maillog().contains("improper command pipelining after STARTTLS from "), 10), maillog());
    }

    @Test
    @Order(5)
    void aRestartKeepsTheGeneratedCertificate() throws Exception {
        byte[] before = Files.readAllBytes(var.resolve("lib/tls/smtpd-cert.pem"));
        gateway.stop();
        gateway = Gateway.start(conf, var, "minimal", Map.of());
        assertTrue(waitFor(() -> banner(MAY_PORT).startsWith("220 "), 30));
        ProcessRunner.Result r = sClient(MAY_PORT);
        assertTrue(r.output().contains("221 2.0.0 Bye"), r.output());
        assertArrayEquals(before, Files.readAllBytes(var.resolve("lib/tls/smtpd-cert.pem")));
        assertFalse(maillog().contains("warning: smtpd_tls"), maillog());
    }

    // ---- helpers ----

    private static ProcessRunner.Result sClient(int port) throws Exception {
        Peers.require(OPENSSL, "openssl");
        return ProcessRunner.run(List.of(OPENSSL, "s_client", "-starttls", "smtp", "-crlf", "-ign_eof", "-connect",
                "127.0.0.1:" + port), Map.of(), "quit\n", 60); // a line starting with Q would make s_client itself quit
    }

    private static ProcessRunner.Result swaks(int port, String... extra) throws Exception {
        Peers.require(Peers.SWAKS, "swaks");
        List<String> cmd = new java.util.ArrayList<>(List.of(Peers.SWAKS, "--server", "127.0.0.1:" + port,
                "--timeout", "20", "--from", "sender@example.com", "--to", "postmaster@" + HOSTNAME));
        cmd.addAll(List.of(extra));
        return ProcessRunner.run(cmd, 60);
    }

    private static String maillog() {
        try {
            return Files.readString(gateway.maillogFile());
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    private static String banner(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            return line == null ? "(closed)" : line;
        } catch (IOException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    private static SSLContext trustAll() throws Exception {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return c;
    }
}
