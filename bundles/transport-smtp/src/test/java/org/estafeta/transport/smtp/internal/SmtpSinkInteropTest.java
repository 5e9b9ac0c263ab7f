package org.estafeta.transport.smtp.internal;

import static org.estafeta.transport.smtp.internal.Fixtures.context;
import static org.estafeta.transport.smtp.internal.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.testing.Peers;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The smtp and lmtp clients against Postfix's own smtp-sink (Debian package postfix). */
class SmtpSinkInteropTest {
    private static final String SINK = "/usr/sbin/smtp-sink";
    private final List<Process> sinks = new ArrayList<>();
    private final RecordingLogger log = new RecordingLogger("smtp");

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : sinks) {
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Starts smtp-sink on 127.0.0.1:port with these options; dumps go to {@code dumps} when not null. */
    private int sink(Path dumps, String... options) throws Exception {
        Peers.require(SINK, "postfix");
        int port = ScriptedServer.freePort();
        List<String> cmd = new ArrayList<>(List.of(SINK));
        if (Peers.isRoot()) {
            cmd.addAll(List.of("-u", "nobody"));
        }
        if (dumps != null) {
            cmd.addAll(List.of("-d", dumps + "/%M."));
        }
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("127.0.0.1:" + port, "10"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        sinks.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return port;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("smtp-sink did not listen: " + cmd);
    }

    private static Path dumpDirectory() throws IOException {
        Path d = Files.createTempDirectory("smtp-sink-");
        d.toFile().setWritable(true, false);
        d.toFile().setExecutable(true, false);
        return d;
    }

    private static String dumps(Path d) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            try (Stream<Path> files = Files.list(d)) {
                List<Path> l = files.toList();
                if (!l.isEmpty()) {
                    Thread.sleep(200); // let smtp-sink finish writing
                    StringBuilder sb = new StringBuilder();
                    for (Path p : l) {
                        sb.append(Files.readString(p, StandardCharsets.ISO_8859_1));
                    }
                    return sb.toString();
                }
            }
            Thread.sleep(50);
        }
        return "";
    }

    @Test
    void deliversWithDsnParametersAndDotStuffing() throws Exception {
        Path d = dumpDirectory();
        int port = sink(d);
        SmtpClient smtp = new SmtpClient(false, new Fixtures.MapResolver(), log);
        try {
            String msg = "Subject: sink\r\n\r\n.leading dot\r\nend\r\n";
            List<RecipientResult> r = smtp.deliver(request("[127.0.0.1]:" + port, Fixtures.content(msg),
                    Map.of("RET", "FULL", "ENVID", "env1"), Map.of("a@example.com", Map.of("NOTIFY", "FAILURE")),
                    "a@example.com", "b@example.com"), context());
            for (RecipientResult x : r) {
                assertEquals(Status.DELIVERED, x.status(), r.toString());
                assertEquals("127.0.0.1[127.0.0.1]:" + port, x.relay());
                assertEquals(250, x.reply().code());
                assertTrue(x.reply().text().startsWith("250 2.0.0 Ok"), x.reply().text());
            }
            String dump = dumps(d);
            assertTrue(dump.contains("X-Mail-Args: RET=FULL ENVID=env1") || dump.contains("ENVID=env1 RET=FULL"), dump);
            assertTrue(dump.contains("X-Rcpt-Args: <a@example.com> NOTIFY=FAILURE"), dump);
            assertTrue(dump.contains("\n.leading dot\r\nend\r\n") || dump.contains("\n.leading dot\nend\n"), dump);
        } finally {
            smtp.close();
        }
    }

    @Test
    void hardAndSoftRejections() throws Exception {
        int port = sink(null, "-f", "RCPT", "-e");
        SmtpClient smtp = new SmtpClient(false, new Fixtures.MapResolver(), log);
        try {
            List<RecipientResult> r = smtp.deliver(request("[127.0.0.1]:" + port, "a@example.com"), context());
            assertEquals(Status.BOUNCED, r.get(0).status(), r.toString());
            assertTrue(r.get(0).reply().text().startsWith("host 127.0.0.1[127.0.0.1] said: 5"), r.toString());
            assertTrue(r.get(0).reply().text().endsWith("(in reply to RCPT TO command)"), r.toString());
        } finally {
            smtp.close();
        }
        int quitter = sink(null, "-q", "DATA");
        smtp = new SmtpClient(false, new Fixtures.MapResolver(), log);
        try {
            List<RecipientResult> r = smtp.deliver(request("[127.0.0.1]:" + quitter, "a@example.com"), context());
            assertEquals(Status.DEFERRED, r.get(0).status(), r.toString());
            assertEquals("lost connection with 127.0.0.1[127.0.0.1] while sending DATA command",
                    r.get(0).reply().text());
        } finally {
            smtp.close();
        }
    }

    @Test
    void lmtpPerRecipientReplies() throws Exception {
        int port = sink(null, "-L");
        SmtpClient lmtp = new SmtpClient(true, new Fixtures.MapResolver(), log);
        try {
            List<RecipientResult> r = lmtp.deliver(request("inet:127.0.0.1:" + port, "a@example.com",
                    "b@example.com"), context());
            for (RecipientResult x : r) {
                assertEquals(Status.DELIVERED, x.status(), r.toString());
            }
        } finally {
            lmtp.close();
        }
    }

    @Test
    void connectionReuseWithTheRealPeer() throws Exception {
        int port = sink(null);
        SmtpClient smtp = new SmtpClient(false, new Fixtures.MapResolver(), log);
        try {
            var ctx = context("smtp_connection_cache_on_demand", "yes", "smtp_connection_cache_time_limit", "5s");
            for (int i = 0; i < 3; i++) {
                assertEquals(Status.DELIVERED, smtp.deliver(request("[127.0.0.1]:" + port, "a@example.com"), ctx)
                        .get(0).status());
                assertEquals(1, smtp.cachedConnections());
            }
        } finally {
            smtp.close();
        }
    }
}
