package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import org.estafeta.tls.internal.TlsServiceImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;

/**
 * STARTTLS on an EmbeddedChannel, with a real TLS handshake against a JSSE client engine (bytes carried between the
 * two channels by the test) and the real TLS service making the self-signed certificate.
 */
class StarttlsTest {
    @TempDir
    Path dir;

    private final Harness h = new Harness();
    private EmbeddedChannel client;

    @AfterEach
    void tearDown() {
        h.close();
        if (client != null) {
            client.finishAndReleaseAll();
        }
    }

    private Harness open(String... params) {
        h.tls = new TlsServiceImpl();
        String[] all = new String[params.length + 2];
        all[0] = "data_directory";
        all[1] = dir.toString();
        System.arraycopy(params, 0, all, 2, params.length);
        h.open(all);
        h.output();
        return h;
    }

    @Test
    void withoutALevelStarttlsIsNotOfferedAndNotImplemented() {
        open();
        assertFalse(h.ask("EHLO c.example\r\n").contains("STARTTLS"));
        assertEquals("502 5.5.1 Error: command not implemented\r\n", h.ask("STARTTLS\r\n"));
    }

    @Test
    void oldSmtpdUseTlsMeansMayAndPipelinedPlaintextIsDiscarded() throws Exception {
        open("smtpd_use_tls", "yes", "smtpd_tls_loglevel", "1");
        String ehlo = h.ask("EHLO c.example\r\n");
        assertTrue(ehlo.contains("250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES"), ehlo);
        // the 2011 injection: NOOP after STARTTLS in the same packet must not be answered, in or out of TLS
        assertEquals("220 2.0.0 Ready to start TLS\r\n", h.ask("STARTTLS\r\nNOOP\r\n"));
        assertTrue(h.log.lines.stream().anyMatch(l -> l.startsWith("info: improper command pipelining after STARTTLS from "
                + h.client() + ": NOOP")), h.log.lines::toString);
        handshake();
        assertTrue(h.session().tlsActive());
        assertTrue(h.log.lines.stream().anyMatch(l -> l.matches("info: Anonymous TLS connection established from "
                + java.util.regex.Pattern.quote(h.client()) + ": TLSv1\\.[23] with cipher \\S+ \\(\\d+/\\d+ bits\\)")),
                h.log.lines::toString);
        assertEquals("", clientRead(), "nothing answers the injected NOOP");
        // RFC 3207: the EHLO is forgotten; STARTTLS is not offered again
        String again = clientAsk("EHLO c.example\r\n");
        assertTrue(again.startsWith("250-mx.example.org\r\n"), again);
        assertFalse(again.contains("STARTTLS"), again);
        assertEquals("554 5.5.1 Error: TLS already active\r\n", clientAsk("STARTTLS\r\n"));
        assertEquals("250 2.0.0 Ok\r\n", clientAsk("NOOP\r\n"));
        assertTrue(Files.exists(dir.resolve("tls/smtpd-cert.pem")));
    }

    @Test
    void theTlsReceivedHeaderNamesProtocolCipherAndTheMissingCertificate() throws Exception {
        h.clientIp = "127.0.0.1";
        org.estafeta.testing.cleanup.FakeCleanup cleanup = new org.estafeta.testing.cleanup.FakeCleanup();
        h.cleanup = cleanup;
        open("smtpd_tls_security_level", "may", "smtpd_tls_received_header", "yes");
        h.ask("EHLO c.example\r\n");
        assertEquals("220 2.0.0 Ready to start TLS\r\n", h.ask("STARTTLS\r\n"));
        handshake();
        clientAsk("EHLO c.example\r\n");
        clientAsk("MAIL FROM:<a@example.org>\r\n");
        clientAsk("RCPT TO:<b@example.net>\r\n");
        clientAsk("DATA\r\n");
        assertTrue(clientAsk("Subject: t\r\n\r\nbody\r\n.\r\n").startsWith("250 2.0.0 Ok: queued as "));
        java.util.List<String> comments = cleanup.single().envelope().receivedComments();
        assertEquals(2, comments.size(), comments::toString);
        assertTrue(comments.get(0).matches("\\(using TLSv1\\.[23] with cipher \\S+ \\(\\d+/\\d+ bits\\)\\)"), comments::toString);
        assertEquals("(No client certificate requested)", comments.get(1));
    }

    @Test
    void encryptRequiresStarttlsFirst() throws Exception {
        open("smtpd_tls_security_level", "encrypt");
        assertTrue(h.ask("EHLO c.example\r\n").contains("250-STARTTLS"));
        assertEquals("530 5.7.0 Must issue a STARTTLS command first\r\n", h.ask("MAIL FROM:<a@example.com>\r\n"));
        assertEquals("530 5.7.0 Must issue a STARTTLS command first\r\n", h.ask("VRFY a@example.com\r\n"));
        assertEquals("250 2.0.0 Ok\r\n", h.ask("NOOP\r\n"));
        assertEquals("220 2.0.0 Ready to start TLS\r\n", h.ask("STARTTLS\r\n"));
        handshake();
        clientAsk("EHLO c.example\r\n");
        assertEquals("250 2.1.0 Ok\r\n", clientAsk("MAIL FROM:<a@example.com>\r\n"));
    }

    @Test
    void unreadableCertificateGives454AndNamesParameterAndFile() {
        Path missing = dir.resolve("nope.pem");
        open("smtpd_tls_security_level", "may", "smtpd_tls_cert_file", missing.toString(),
                "smtpd_tls_key_file", missing.toString());
        h.ask("EHLO c.example\r\n");
        assertEquals("454 4.7.0 TLS not available due to local problem\r\n", h.ask("STARTTLS\r\n"));
        assertTrue(h.log.lines.stream().anyMatch(l -> l.startsWith("warning: smtpd_tls_cert_file: cannot read " + missing
                + ": No such file or directory")), h.log.lines::toString);
        assertEquals("250 2.0.0 Ok\r\n", h.ask("NOOP\r\n"));
    }

    @Test
    void syntaxError() {
        open("smtpd_tls_security_level", "may");
        assertEquals("501 5.5.4 Syntax: STARTTLS\r\n", h.ask("STARTTLS now\r\n"));
    }

    // ---- a JSSE client on its own EmbeddedChannel, bytes carried by hand ----

    private void handshake() throws Exception {
        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new TrustManager[] {new X509TrustManager() {
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
        SSLEngine engine = trustAll.createSSLEngine("mx.example.org", 25);
        engine.setUseClientMode(true);
        SslHandler ssl = new SslHandler(engine);
        client = new EmbeddedChannel(ssl);
        shuttle();
        assertTrue(ssl.handshakeFuture().isSuccess(), String.valueOf(ssl.handshakeFuture().cause()));
    }

    private void shuttle() {
        for (int i = 0; i < 1000; i++) {
            boolean moved = false;
            client.runPendingTasks();
            ByteBuf b;
            while ((b = client.readOutbound()) != null) {
                h.channel.writeInbound(b);
                moved = true;
            }
            h.pump();
            while ((b = h.channel.readOutbound()) != null) {
                client.writeInbound(b);
                moved = true;
            }
            client.runPendingTasks();
            if (!moved) {
                return;
            }
        }
        throw new AssertionError("the TLS exchange never settles");
    }

    private String clientAsk(String text) {
        client.writeOutbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        shuttle();
        return clientRead();
    }

    private String clientRead() {
        StringBuilder sb = new StringBuilder();
        Object o;
        while ((o = client.readInbound()) != null) {
            ByteBuf buf = (ByteBuf) o;
            sb.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return sb.toString();
    }
}
