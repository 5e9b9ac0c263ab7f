package org.estafeta.filter.clamav;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.filter.support.DaemonAddress;
import org.estafeta.testing.PrivateClamd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The clamav filter against a real, private clamd (PrivateClamd: its own socket, configuration and a signature
 * database with the EICAR test string): EICAR as a MIME attachment and in a body is found, clean mail passes,
 * clamd's size limit and a stopped or silent clamd are errors, never a silent accept.
 */
class ClamavFilterTest {
    static final int TCP_PORT = 27311;
    static final Envelope ENVELOPE = new Envelope("4dZ8sL2kQmz1cB5", "a@example.org", List.of("b@example.net"),
            new ClientInfo("192.0.2.7", "client.example.org", "helo.example.org", false, Optional.empty()));

    @TempDir
    static Path dir;
    static PrivateClamd clamd;

    private final org.estafeta.testing.FakePluginContext fake = new org.estafeta.testing.FakePluginContext();
    private final Map<String, String> params = fake.parameters;
    private final ClamavFilter filter = new ClamavFilter();

    @BeforeAll
    static void start() throws Exception {
        clamd = PrivateClamd.start(dir.resolve("clamd"), TCP_PORT, 1024 * 1024);
    }

    @AfterAll
    static void stop() {
        if (clamd != null) {
            clamd.close();
        }
    }

    @AfterEach
    void close() {
        filter.close();
    }

    private final PluginContext context = fake;

    /** An in-memory message. */
    static MessageContent message(String text) {
        return new org.estafeta.testing.BytesContent(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    static String withAttachment(byte[] attachment) {
        return "From: a@example.org\r\nTo: b@example.net\r\nSubject: see attached\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
                + "the file\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"eicar.com\"\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString(attachment) + "\r\n--b1--\r\n";
    }

    static final String CLEAN = "From: a@example.org\r\nSubject: lunch\r\n\r\nShall we meet at noon?\r\n";

    @Test
    void eicarAsAnAttachmentIsRejectedWithItsName() {
        params.put("clamav_server", clamd.unixAddress());
        FilterVerdict v = filter.filter(ENVELOPE,
                message(withAttachment(PrivateClamd.EICAR.getBytes(StandardCharsets.US_ASCII))), context);
        FilterVerdict.Reject r = assertInstanceOf(FilterVerdict.Reject.class, v);
        assertEquals("554 5.7.1 Virus found: Eicar-Signature.UNOFFICIAL", r.reply().toString());
    }

    @Test
    void cleanMailPassesWithoutHeadersOverUnixAndInet() {
        for (String server : List.of(clamd.unixAddress(), clamd.inetAddress())) {
            params.put("clamav_server", server);
            assertEquals(new FilterVerdict.Accept(List.of()), filter.filter(ENVELOPE, message(CLEAN), context), server);
            FilterVerdict v = filter.filter(ENVELOPE, message("Subject: x\r\n\r\n" + PrivateClamd.EICAR + "\r\n"), context);
            assertInstanceOf(FilterVerdict.Reject.class, v, server);
        }
    }

    @Test
    void holdAndDiscardInsteadOfReject() {
        params.put("clamav_server", clamd.unixAddress());
        String infected = withAttachment(PrivateClamd.EICAR.getBytes(StandardCharsets.US_ASCII));
        params.put("clamav_action", "hold");
        assertEquals(new FilterVerdict.Hold("virus found: Eicar-Signature.UNOFFICIAL"),
                filter.filter(ENVELOPE, message(infected), context));
        params.put("clamav_action", "discard");
        assertEquals(new FilterVerdict.Discard("virus found: Eicar-Signature.UNOFFICIAL"),
                filter.filter(ENVELOPE, message(infected), context));
        params.put("clamav_action", "quarantine");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> filter.filter(ENVELOPE, message(infected), context));
        assertTrue(e.getMessage().startsWith("clamav_action: "), e.getMessage());
    }

    @Test
    void aMessageBeyondClamdsStreamMaxLengthIsAnErrorNotAPass() {
        params.put("clamav_server", clamd.unixAddress());
        String big = "Subject: big\r\n\r\n" + ("x".repeat(78) + "\r\n").repeat(20_000); // 1.6 MB > 1 MiB
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> filter.filter(ENVELOPE, message(big), context));
        assertTrue(e.getMessage().contains("INSTREAM size limit exceeded"), e.getMessage());
        // just below the limit, in many chunks: scanned
        String fits = "Subject: fits\r\n\r\n" + ("y".repeat(78) + "\r\n").repeat(12_000); // 960 KB
        assertEquals(new FilterVerdict.Accept(List.of()), filter.filter(ENVELOPE, message(fits), context));
    }

    @Test
    void unreachableOrSilentClamdIsAnErrorWithinTheTimeout() throws Exception {
        params.put("clamav_server", "unix:" + dir.resolve("nobody-listens.sock"));
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> filter.filter(ENVELOPE, message(CLEAN), context));
        assertTrue(e.getMessage().startsWith("connect to unix:" + dir.resolve("nobody-listens.sock")), e.getMessage());

        Path silent = dir.resolve("silent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(silent)); // accepts connections, never answers
            params.put("clamav_server", "unix:" + silent);
            params.put("clamav_timeout", "1s");
            long start = System.nanoTime();
            e = assertThrows(UncheckedIOException.class, () -> filter.filter(ENVELOPE, message(CLEAN), context));
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(e.getMessage().contains("timeout after 1s"), e.getMessage());
            assertTrue(ms >= 900 && ms < 5000, ms + " ms");
        }
    }

    @Test
    void addressesParseAsPostfixWritesThem() {
        assertEquals("inet:[::1]:3310", DaemonAddress.parse("clamav_server", "inet:[::1]:3310").text());
        assertEquals(3310, ((java.net.InetSocketAddress) DaemonAddress.parse("p", "localhost:3310").socket()).getPort());
        assertTrue(DaemonAddress.parse("p", "/run/clamd.sock").socket() instanceof UnixDomainSocketAddress);
        assertThrows(IllegalArgumentException.class, () -> DaemonAddress.parse("clamav_server", "unix:relative"));
        assertThrows(IllegalArgumentException.class, () -> DaemonAddress.parse("clamav_server", "inet:host:99999"));
        assertThrows(IllegalArgumentException.class, () -> DaemonAddress.parse("clamav_server", "clamd"));
    }

    private static <T> T assertInstanceOf(Class<T> type, Object o) {
        return assertInstanceOf(type, o, "");
    }

    private static <T> T assertInstanceOf(Class<T> type, Object o, String what) {
        assertTrue(type.isInstance(o), what + ": expected " + type.getSimpleName() + ", got " + o);
        return type.cast(o);
    }
}
