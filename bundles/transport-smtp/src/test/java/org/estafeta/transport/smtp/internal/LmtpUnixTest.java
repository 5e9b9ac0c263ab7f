package org.estafeta.transport.smtp.internal;

import static org.estafeta.transport.smtp.internal.Fixtures.context;
import static org.estafeta.transport.smtp.internal.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lmtp client on UNIX-domain sockets ({@code unix:/path}, {@code unix:private/name} under queue_directory)
 * against scripted LMTP servers listening on sockets in a temporary directory: Postfix's {@code relay=} and reply
 * texts ({@code $myhostname[path]}, no port), connect errors, connection reuse, and the TLS and fallback rules of
 * smtp_connect_local().
 */
class LmtpUnixTest {
    private static final List<String> LMTP = List.of("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME");
    private static final String HOST = "gateway.estafeta.test";

    @TempDir
    Path tmp;

    private final RecordingLogger log = new RecordingLogger("lmtp");
    private final List<ScriptedServer> servers = new ArrayList<>();
    private SmtpClient lmtp;

    @BeforeEach
    void start() {
        lmtp = new SmtpClient(true, new Fixtures.MapResolver(), log);
    }

    @AfterEach
    void stop() throws Exception {
        lmtp.close();
        for (ScriptedServer s : servers) {
            s.close();
        }
    }

    private ScriptedServer server(Path socket, ScriptedServer.Answer answer) throws Exception {
        Files.createDirectories(socket.getParent());
        ScriptedServer s = ScriptedServer.unix(socket, p -> p.serve("220 " + HOST + " Dovecot ready.", LMTP, answer));
        servers.add(s);
        return s;
    }

    private static void assertResult(RecipientResult r, Status status, int code, String dsn, String text, String relay) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(new Reply(code, dsn, text), r.reply());
        assertEquals(relay, r.relay());
    }

    @Test
    void anAbsolutePathGetsOneReplyPerRecipientAndIsNamedWithoutAPort() throws Exception {
        Path socket = tmp.resolve("run/lmtp");
        ScriptedServer s = server(socket, l -> l.equals(".")
                ? "250 2.0.0 <a@example.com> abc Saved\n452 4.2.2 <b@example.com> Mailbox is full" : null);
        List<RecipientResult> r = lmtp.deliver(request("unix:" + socket, "a@example.com", "b@example.com"),
                context("lmtp_lhlo_name", "lhlo.example.org"));
        String relay = HOST + "[" + socket + "]";
        assertResult(r.get(0), Status.DELIVERED, 250, "2.0.0", "250 2.0.0 <a@example.com> abc Saved", relay);
        assertResult(r.get(1), Status.DEFERRED, 452, "4.2.2", "host " + relay + " said: 452 4.2.2 <b@example.com> "
                + "Mailbox is full (in reply to end of DATA command)", relay);
        assertEquals(List.of("LHLO lhlo.example.org"), s.commands("LHLO"));
        assertEquals(List.of("RCPT TO:<a@example.com>", "RCPT TO:<b@example.com>"), s.commands("RCPT"));
        assertEquals(1, s.messages.size());
        assertTrue(s.messages.get(0).contains("Hello."), s.messages.toString());
    }

    @Test
    void aRelativePathIsUnderQueueDirectoryAndLoggedAsWritten() throws Exception {
        Path queue = tmp.resolve("spool");
        ScriptedServer s = server(queue.resolve("private/dovecot-lmtp"),
                l -> l.startsWith("RCPT TO:<nobody") ? "550 5.1.1 <nobody@example.com> User doesn't exist" : null);
        List<RecipientResult> r = lmtp.deliver(request("unix:private/dovecot-lmtp", "a@example.com", "nobody@example.com"),
                context("queue_directory", queue.toString()));
        String relay = HOST + "[private/dovecot-lmtp]";
        assertResult(r.get(0), Status.DELIVERED, 250, "2.0.0", "250 2.0.0 Ok: queued as TEST1", relay);
        assertResult(r.get(1), Status.BOUNCED, 550, "5.1.1", "host " + relay + " said: 550 5.1.1 <nobody@example.com> "
                + "User doesn't exist (in reply to RCPT TO command)", relay);
        assertEquals(1, s.connections.get());
    }

    @Test
    void aMissingSocketDefersWithTheErrnoText() {
        List<RecipientResult> r = lmtp.deliver(request("unix:private/dovecot-lmtp", "a@example.com"),
                context("queue_directory", tmp.toString()));
        assertResult(r.get(0), Status.DEFERRED, 450, "4.4.1",
                "connect to " + HOST + "[private/dovecot-lmtp]: No such file or directory", "none");
        assertEquals(List.of(), log.lines(), "smtp_connect_local() logs no line of its own");
    }

    @Test
    void aSocketNobodyListensOnIsRefused() throws Exception {
        Path socket = tmp.resolve("stale");
        try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(socket)); // the file stays after close: a server that went away
        }
        List<RecipientResult> r = lmtp.deliver(request("unix:" + socket, "a@example.com"), context());
        assertResult(r.get(0), Status.DEFERRED, 450, "4.4.1", "connect to " + HOST + "[" + socket + "]: Connection refused",
                "none");
    }

    @Test
    void aCachedConnectionIsReusedAfterAnRsetProbe() throws Exception {
        Path socket = tmp.resolve("lmtp");
        ScriptedServer s = server(socket, null);
        for (int i = 0; i < 3; i++) {
            List<RecipientResult> r = lmtp.deliver(request("unix:" + socket, "a" + i + "@example.com"),
                    context("lmtp_connection_cache_on_demand", "yes", "lmtp_connection_cache_time_limit", "10s"));
            assertEquals(Status.DELIVERED, r.get(0).status(), r + " " + log.lines());
            assertEquals(HOST + "[" + socket + "]", r.get(0).relay());
        }
        assertEquals(1, s.connections.get(), "one connection for three deliveries");
        assertEquals(1, s.commands("LHLO").size());
        assertEquals(2, s.commands("RSET").size());
        assertEquals(1, lmtp.cachedConnections());
        // another next hop is another cache entry, even when it names the same socket
        Path link = tmp.resolve("link");
        Files.createSymbolicLink(link, socket);
        assertEquals(Status.DELIVERED, lmtp.deliver(request("unix:" + link, "b@example.com"),
                context("lmtp_connection_cache_on_demand", "yes", "lmtp_connection_cache_time_limit", "10s"))
                .get(0).status());
        assertEquals(2, s.connections.get());
    }

    @Test
    void opportunisticTlsIsTurnedOffWithPostfixsWarning() throws Exception {
        Path socket = tmp.resolve("lmtp");
        Files.createDirectories(socket.getParent());
        ScriptedServer s = ScriptedServer.unix(socket,
                p -> p.serve("220 x LMTP", List.of("PIPELINING", "STARTTLS"), null));
        servers.add(s);
        List<RecipientResult> r = lmtp.deliver(request("unix:" + socket, "a@example.com"),
                context("lmtp_tls_security_level", "may"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r.toString());
        assertEquals(List.of(), s.commands("STARTTLS"));
        assertEquals(List.of("WARN smtp_connect_local: opportunistic TLS encryption is not appropriate for "
                + "unix-domain destinations."), log.lines());
        // a level that requires TLS is kept: a server without STARTTLS is not used
        ScriptedServer plain = server(tmp.resolve("plain"), null);
        r = lmtp.deliver(request("unix:" + plain.unixPath, "a@example.com"), context("lmtp_tls_security_level", "encrypt"));
        assertResult(r.get(0), Status.DEFERRED, 450, "4.7.4", "TLS is required, but was not offered by host " + HOST
                + "[" + plain.unixPath + "]", HOST + "[" + plain.unixPath + "]");
        assertEquals(List.of(), plain.commands("MAIL"));
    }

    @Test
    void fallbackRelaysAreIgnoredWithAWarning() throws Exception {
        ScriptedServer s = server(tmp.resolve("lmtp"), null);
        List<RecipientResult> r = lmtp.deliver(request("unix:" + s.unixPath, "a@example.com"),
                context("lmtp_fallback_relay", "[127.0.0.1]:24"));
        assertEquals(Status.DELIVERED, r.get(0).status(), r.toString());
        assertEquals(List.of("WARN ignoring \"lmtp_fallback_relay = [127.0.0.1]:24\" setting for non-TCP connections"),
                log.lines());
    }

    @Test
    void badPathsAreAConfigurationError() {
        List<RecipientResult> r = lmtp.deliver(request("unix:private/dovecot-lmtp", "a@example.com"), context());
        assertResult(r.get(0), Status.DEFERRED, 450, "4.3.5", "Server configuration error", "none");
        assertEquals(List.of("WARN unix-domain destination private/dovecot-lmtp is relative and queue_directory is not set"),
                log.lines());
        log.clear();
        String tooLong = "/tmp/" + "x".repeat(110);
        r = lmtp.deliver(request("unix:" + tooLong, "a@example.com"), context());
        assertResult(r.get(0), Status.DEFERRED, 450, "4.3.5", "Server configuration error", "none");
        assertEquals(List.of("WARN unix-domain name too long: " + tooLong), log.lines());
        log.clear();
        // only a whole next hop is a socket; in a list, "unix" is a host name with a bad port, as in Postfix
        r = lmtp.deliver(request("inet:127.0.0.1:1, unix:/run/lmtp", "a@example.com"),
                context("lmtp_connect_timeout", "1s"));
        assertEquals(Status.DEFERRED, r.get(0).status());
        assertTrue(log.lines().contains("WARN bad network port: /run/lmtp for destination: unix:/run/lmtp"),
                log.lines().toString());
    }

    @Test
    void aServerThatGoesAwayIsNamedByItsPath() throws Exception {
        Path socket = tmp.resolve("lmtp");
        CountDownLatch gone = new CountDownLatch(1);
        ScriptedServer s = ScriptedServer.unix(socket, p -> {
            p.reply("220 x LMTP");
            p.line();
            gone.countDown(); // LHLO read, the server exits without a reply
        });
        servers.add(s);
        List<RecipientResult> r = lmtp.deliver(request("unix:" + socket, "a@example.com"), context());
        assertTrue(gone.await(5, TimeUnit.SECONDS));
        assertResult(r.get(0), Status.DEFERRED, 450, "4.4.2", "lost connection with " + HOST + "[" + socket
                + "] while performing the LHLO handshake", HOST + "[" + socket + "]");
    }
}
