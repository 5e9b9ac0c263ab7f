package org.estafeta.transport.smtp.internal;

import static org.estafeta.transport.smtp.internal.Fixtures.context;
import static org.estafeta.transport.smtp.internal.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.testing.Peers;
import org.estafeta.testing.PrivatePostfix;
import org.estafeta.testing.RecordingLogger;
import org.estafeta.transport.smtp.internal.TlsFixtures.Ca;
import org.estafeta.transport.smtp.internal.TlsFixtures.Issued;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** STARTTLS against a real Postfix smtpd (certificates made by the test) and Postfix's smtp-sink (no STARTTLS). */
class StartTlsInteropTest {
    private final RecordingLogger log = new RecordingLogger("smtp");
    @TempDir
    Path dir;

    @Test
    void realPostfixWithStartTls() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        Ca ca = new Ca("CN=Estafeta Interop CA");
        Issued server = ca.issue("CN=postfix.tls.test", false, "postfix.tls.test");
        int port = TlsFixtures.port();
        PrivatePostfix.Builder b = PrivatePostfix.builder("transport-smtp-tls");
        Path cert = b.directory().resolve("server.pem");
        Path key = b.directory().resolve("server.key");
        b.file("server.pem", TlsFixtures.pem(server.chain().toArray()));
        b.file("server.key", TlsFixtures.pem(server.key()));
        Path caFile = dir.resolve("ca.pem");
        java.nio.file.Files.writeString(caFile, TlsFixtures.pem(ca.self.chain().get(0)));
        try (PrivatePostfix pf = b.mainCf("compatibility_level = 3.6\nmyhostname = postfix.tls.test\n"
                + "mydestination = localhost\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
                + "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = " + cert + "\nsmtpd_tls_key_file = " + key
                + "\nsmtpd_tls_loglevel = 1\n")
                .masterCf("127.0.0.1:" + port + " inet n - n - - smtpd\n").start()) {
            SmtpClient smtp = new SmtpClient(false, new Fixtures.MapResolver().a("postfix.tls.test", "127.0.0.1"), log);
            try {
                String relay = "postfix.tls.test[127.0.0.1]:" + port;
                for (String level : List.of("may", "verify", "secure")) {
                    List<RecipientResult> r = smtp.deliver(request("[postfix.tls.test]:" + port, "root@localhost"),
                            context("smtp_tls_security_level", level, "smtp_tls_CAfile", caFile.toString(),
                                    "smtp_tls_loglevel", "1"));
                    assertEquals(Status.DELIVERED, r.get(0).status(), level + ": " + r + "\n" + log.lines()
                            + "\n" + pf.maillog());
                    assertEquals(relay, r.get(0).relay());
                }
                assertTrue(log.lines().contains("INFO Trusted TLS connection established to " + relay + ": "
                        + "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)")
                        || log.lines().stream().anyMatch(l -> l.startsWith("INFO Trusted TLS connection established to "
                                + relay + ": TLSv1.")), log.lines().toString());
                assertEquals(2, log.lines().stream().filter(l -> l.startsWith("INFO Verified TLS connection "
                        + "established to " + relay)).count(), log.lines().toString());
                // Postfix saw TLS: its smtpd logs the handshakes at smtpd_tls_loglevel 1
                assertTrue(pf.maillog().contains("TLS connection established from"), pf.maillog());

                // with another CA the certificate does not verify
                Path otherCa = dir.resolve("other-ca.pem");
                java.nio.file.Files.writeString(otherCa, TlsFixtures.pem(new Ca("CN=Other CA").self.chain().get(0)));
                List<RecipientResult> r = smtp.deliver(request("[postfix.tls.test]:" + port, "root@localhost"),
                        context("smtp_tls_security_level", "verify", "smtp_tls_CAfile", otherCa.toString()));
                assertEquals(new Reply(450, "4.7.5", "Server certificate not verified"), r.get(0).reply());
            } finally {
                smtp.close();
            }
        }
    }

    @Test
    void smtpSinkOffersNoStartTls() throws Exception {
        Peers.require("/usr/sbin/smtp-sink", "postfix");
        int port = TlsFixtures.port();
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/sbin/smtp-sink"));
        if (Peers.isRoot()) {
            cmd.addAll(List.of("-u", "nobody"));
        }
        cmd.addAll(List.of("127.0.0.1:" + port, "10"));
        Process sink = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        SmtpClient smtp = new SmtpClient(false, new Fixtures.MapResolver(), log);
        try {
            waitFor(port);
            List<RecipientResult> r = smtp.deliver(request("[127.0.0.1]:" + port, "a@example.com"),
                    context("smtp_tls_security_level", "encrypt"));
            assertEquals(Status.DEFERRED, r.get(0).status());
            assertEquals(new Reply(450, "4.7.4", "TLS is required, but was not offered by host 127.0.0.1[127.0.0.1]"),
                    r.get(0).reply());
            r = smtp.deliver(request("[127.0.0.1]:" + port, "a@example.com"), context("smtp_tls_security_level", "may"));
            assertEquals(Status.DELIVERED, r.get(0).status(), r.toString());
        } finally {
            smtp.close();
            sink.destroy();
            sink.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static void waitFor(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("smtp-sink did not listen on " + port);
    }
}
