package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.estafeta.testing.PrivatePostfix;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole mail path with real peers: swaks → Estafeta's smtpd → cleanup → queue → qmgr → smtp transport → a real
 * Postfix, which stores what arrives in Maildirs (its virtual(8) agent). Checks what arrives, the maillog lines,
 * deferral with postqueue's reason, and a bounce that travels back through Postfix as a real RFC 3464 report.
 */
class DeliveryIT {
    static final int SINK_PORT = 27125;
    static final int SMTPD_PORT = 27126;
    static final int DEAD_PORT = 27127; // nothing listens here
    static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");

    static PrivatePostfix sink;
    static Path maildirs;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startSink() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        PrivatePostfix.Builder b = PrivatePostfix.builder("delivery-sink");
        maildirs = b.directory().resolve("maildirs");
        // Postfix's virtual(8) stores each known address of sink.test in its own Maildir (virtual(8) refuses regexp
        // substitution, so the boxes are listed); 127.0.0.1 is NOT in its mynetworks, so mail for other domains gets
        // "Relay access denied".
        b.mainCf(String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = sink.postfix.test",
                "mydestination =",
                "mynetworks = 127.0.0.2/32",
                "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
                "virtual_mailbox_domains = sink.test",
                "virtual_mailbox_base = " + maildirs,
                "virtual_mailbox_maps = texthash:" + b.directory().resolve("boxes"),
                "virtual_uid_maps = static:65534",
                "virtual_gid_maps = static:65534",
                ""))
                .masterCf("127.0.0.1:" + SINK_PORT + " inet n - n - - smtpd\n")
                .file("boxes", String.join("\n", "alice@sink.test alice/", "bob@sink.test bob/",
                        "carol@sink.test carol/", "dave@sink.test dave/", ""));
        sink = b.start();
        Files.createDirectories(maildirs);
        new ProcessBuilder("chown", "65534:65534", maildirs.toString()).inheritIO().start().waitFor();
    }

    @AfterAll
    static void stopSink() {
        if (sink != null) {
            sink.close();
        }
    }

    private Gateway startEstafeta(String extraMain) throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Files.writeString(conf.resolve("transport"), String.join("\n",
                "# the tutorial's shape: a domain to a host, without MX lookup",
                "sink.test        smtp:[127.0.0.1]:" + SINK_PORT,
                "other.test       smtp:[127.0.0.1]:" + SINK_PORT,
                "down.test        smtp:[127.0.0.1]:" + DEAD_PORT,
                ""));
        return EstafetaTarget.start(tmp, String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = gw.estafeta.test",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "transport_maps = texthash:" + conf.resolve("transport"),
                "minimal_backoff_time = 1h",
                extraMain,
                ""), String.join("\n",
                "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                "qmgr      unix  n       -       n       300     1       qmgr",
                "smtp      unix  -       -       n       -       -       smtp",
                "error     unix  -       -       n       -       -       error",
                ""));
    }

    private static String send(String from, String to, String subject, String extraHeader) throws Exception {
        List<String> args = new ArrayList<>(List.of("--from", from, "--to", to, "--header", "Subject: " + subject,
                "--body", "numbered body of " + subject));
        if (extraHeader != null) {
            args.addAll(List.of("--add-header", extraHeader));
        }
        Swaks.Transcript t = Swaks.run(SMTPD_PORT, args.toArray(String[]::new));
        Matcher m = QUEUED.matcher(t.last("250 2.0.0"));
        assertTrue(m.find(), t.serverLines().toString());
        return m.group(1);
    }

    private static List<Path> arrived(String user) throws IOException {
        Path dir = maildirs.resolve(user).resolve("new");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void mailRelayedToARealPostfixArrivesWithItsHeadersAndTheLogSaysSent() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        Gateway gw = startEstafeta("");
        try {
            EstafetaTarget.awaitListener(SMTPD_PORT);
            List<String> ids = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                ids.add(send("sender@example.org", "alice@sink.test", "delivery " + i, "X-Seq: " + i));
            }
            String multi = send("sender@example.org", "bob@sink.test,carol@sink.test", "two recipients", null);
            assertTrue(ItSupport.waitFor(() -> {
                try {
                    return arrived("alice").size() == 5 && arrived("bob").size() == 1 && arrived("carol").size() == 1;
                } catch (IOException e) {
                    return false;
                }
            }, 60), "mail did not arrive at Postfix: " + ItSupport.maillog(gw));
            List<String> seqs = new ArrayList<>();
            for (Path p : arrived("alice")) {
                String msg = Files.readString(p, StandardCharsets.ISO_8859_1);
                Matcher m = Pattern.compile("(?m)^X-Seq: (\\d+)$").matcher(msg);
                assertTrue(m.find(), msg);
                seqs.add(m.group(1));
                assertTrue(msg.contains("by gw.estafeta.test (Estafeta) with ESMTP id "), "Estafeta's Received: " + msg);
                assertTrue(msg.contains("by sink.postfix.test (Postfix) with ESMTP"), "Postfix's Received: " + msg);
            }
            seqs.sort(null);
            assertEquals(List.of("1", "2", "3", "4", "5"), seqs, "each message exactly once");
            String log = ItSupport.maillog(gw);
            for (String id : ids) {
                assertTrue(Pattern.compile(Pattern.quote(id) + ": to=<alice@sink\\.test>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:"
                        + SINK_PORT + ", delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/0/[0-9.]+, dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 Ok: queued as \\w+\\)")
                        .matcher(log).find(), id + " in " + log);
                assertTrue(log.contains(id + ": removed"), log);
            }
            assertTrue(log.contains(multi + ": from=<sender@example.org>, size="), log);
            assertTrue(log.contains(", nrcpt=2 (queue active)"), log);
            assertTrue(ItSupport.waitFor(() -> queueEmpty(gw), 30), "queue not empty");
        } finally {
            gw.stop();
        }
    }

    @Test
    void unreachableDestinationIsDeferredWithItsReasonAndNothingIsLost() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        Gateway gw = startEstafeta("");
        try {
            EstafetaTarget.awaitListener(SMTPD_PORT);
            String id = send("sender@example.org", "x@down.test", "for a dead host", null);
            Path deferred = gw.queueDirectory().resolve("deferred").resolve(id);
            assertTrue(ItSupport.waitFor(() -> Files.exists(deferred), 60), "not deferred: " + ItSupport.maillog(gw));
            assertTrue(ItSupport.maillog(gw).contains(id + ": to=<x@down.test>, relay=none, delay="), ItSupport.maillog(gw));
            assertTrue(ItSupport.maillog(gw).contains("status=deferred (connect to 127.0.0.1[127.0.0.1]:" + DEAD_PORT
                    + ": Connection refused)"), ItSupport.maillog(gw));
            ItSupport.Result q = ItSupport.estafeta(tmp.resolve("conf"), tmp.resolve("var"), "postqueue", "-p");
            assertTrue(q.stdout().contains("(connect to 127.0.0.1[127.0.0.1]:" + DEAD_PORT + ": Connection refused)"),
                    q.output());
            // minimal_backoff_time is 1h: only a flush brings another attempt now (postqueue -i, then -f)
            for (String[] flush : List.of(new String[] {"postqueue", "-i", id}, new String[] {"postqueue", "-f"})) {
                long before = attempts(gw, id);
                ItSupport.Result r = ItSupport.estafeta(tmp.resolve("conf"), tmp.resolve("var"), flush);
                assertEquals(0, r.exit(), String.join(" ", flush) + ": " + r.output());
                assertTrue(ItSupport.waitFor(() -> attempts(gw, id) > before, 30),
                        String.join(" ", flush) + " brought no new attempt: " + ItSupport.maillog(gw));
                assertTrue(ItSupport.waitFor(() -> Files.exists(deferred), 30), "deferred again");
            }
        } finally {
            gw.stop();
        }
    }

    @Test
    void aRejectedRecipientBouncesBackAsAnRfc3464Report() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        Gateway gw = startEstafeta("");
        try {
            EstafetaTarget.awaitListener(SMTPD_PORT);
            String id = send("dave@sink.test", "nobody@other.test", "will bounce", "X-Secret: original header");
            assertTrue(ItSupport.waitFor(() -> {
                try {
                    return arrived("dave").size() == 1;
                } catch (IOException e) {
                    return false;
                }
            }, 60), "no bounce arrived: " + ItSupport.maillog(gw));
            String log = ItSupport.maillog(gw);
            assertTrue(log.contains(id + ": to=<nobody@other.test>, relay=127.0.0.1[127.0.0.1]:" + SINK_PORT), log);
            assertTrue(log.contains("dsn=5.7.1, status=bounced (host 127.0.0.1[127.0.0.1] said: 554 5.7.1 "
                    + "<nobody@other.test>: Relay access denied (in reply to RCPT TO command))"), log);
            assertTrue(log.contains(id + ": sender non-delivery notification: "), log);
            Path report = arrived("dave").get(0);
            org.apache.james.mime4j.dom.Message m;
            try (InputStream in = Files.newInputStream(report)) {
                m = new org.apache.james.mime4j.message.DefaultMessageBuilder().parseMessage(in);
            }
            assertEquals("multipart/report", m.getMimeType());
            assertEquals("delivery-status", m.getHeader().getField("Content-Type").getBody()
                    .replaceAll("(?s).*report-type=\"?([a-z-]+).*", "$1"));
            assertEquals("Undelivered Mail Returned to Sender", m.getSubject());
            var parts = ((org.apache.james.mime4j.dom.Multipart) m.getBody()).getBodyParts();
            assertEquals("message/delivery-status", parts.get(1).getMimeType());
            String status;
            try (InputStream in = ((org.apache.james.mime4j.dom.SingleBody) parts.get(1).getBody()).getInputStream()) {
                status = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            }
            assertTrue(status.contains("Reporting-MTA: dns; gw.estafeta.test"), status);
            assertTrue(status.contains("Final-Recipient: rfc822; nobody@other.test"), status);
            assertTrue(status.contains("Action: failed"), status);
            assertTrue(status.contains("Status: 5.7.1"), status);
            assertTrue(status.contains("Remote-MTA: dns; 127.0.0.1"), status);
            assertTrue(status.contains("Relay access denied"), status);
            String whole = Files.readString(report, StandardCharsets.ISO_8859_1);
            assertTrue(whole.contains("X-Secret: original header"), "the original is returned to its sender");
            assertTrue(whole.contains("Return-Path: <>"), "the report has the null sender: " + whole);
        } finally {
            gw.stop();
        }
    }

    /** How many delivery attempts the maillog shows for {@code id}. */
    private static long attempts(Gateway gw, String id) {
        return ItSupport.maillog(gw).lines().filter(l -> l.contains(id + ": to=<")).count();
    }

    private static boolean queueEmpty(Gateway gw) {
        for (String q : List.of("incoming", "active", "deferred")) {
            try (Stream<Path> s = Files.list(gw.queueDirectory().resolve(q))) {
                if (s.findAny().isPresent()) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
