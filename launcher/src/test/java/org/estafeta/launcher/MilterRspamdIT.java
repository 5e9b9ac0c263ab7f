package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.estafeta.testing.PrivateRspamd;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, milters: Estafeta with {@code smtpd_milters = inet:127.0.0.1:PORT} pointing at a real Rspamd proxy
 * worker in milter mode (PrivateRspamd: Debian's rules, {@code self_scan}, {@code milter_headers} with
 * x-spamd-result, x-rspamd-server, x-rspamd-queue-id and authentication-results) relays to Postfix's smtp-sink.
 * A normal message arrives carrying the headers rspamd asked for through the milter (add-header requests), its
 * X-Rspamd-Queue-Id being Estafeta's queue id (the {@code i} macro). GTUBE gets rspamd's reply code at the end of
 * DATA ({@code 554 5.7.1 Gtube pattern}) and nothing is queued or relayed.
 */
class MilterRspamdIT {
    static final int SMTPD_PORT = 27994;
    static final int SINK_PORT = 27995;
    static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");

    @TempDir
    Path tmp;

    private static String message(String subject, String body) {
        return "From: ana@example.org\r\nTo: pepe@example.net\r\nSubject: " + subject
                + "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + subject.replace(' ', '.')
                + "@example.org>\r\n\r\n" + body;
    }

    /** swaks with this message as DATA; returns its transcript. */
    private Swaks.Transcript send(String name, String data) throws Exception {
        Path file = tmp.resolve(name + ".eml");
        Files.writeString(file, data, StandardCharsets.US_ASCII);
        return Swaks.run(SMTPD_PORT, "--from", "ana@example.org", "--to", "pepe@example.net", "--data", "@" + file);
    }

    @Test
    void rspamdHeadersAreAddedAndGtubeIsRejectedAtTheEndOfData() throws Exception {
        requirePeer(PrivateRspamd.RSPAMD, "rspamd");
        requirePeer("/usr/bin/swaks", "swaks");
        SmtpSink sink = SmtpSink.start(tmp, "sink", SINK_PORT);
        Path dumps = sink.dir;
        Gateway gw = null;
        try (PrivateRspamd rspamd = PrivateRspamd.start(tmp.resolve("rspamd"))) {
            gw = EstafetaTarget.start(tmp.resolve("gw"), String.join("\n",
                    "compatibility_level = 3.6",
                    "myhostname = gw.example.org",
                    "mydestination =",
                    "mynetworks = 127.0.0.0/8",
                    "relayhost = [127.0.0.1]:" + SINK_PORT,
                    "smtpd_milters = " + rspamd.milterAddress(),
                    "minimal_backoff_time = 1h",
                    ""), String.join("\n",
                    "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                    "qmgr unix n - n 300 1 qmgr",
                    "smtp unix - - n - - smtp",
                    "error unix - - n - - error",
                    ""));
            Gateway g = gw;
            EstafetaTarget.awaitListener(SMTPD_PORT);

            // (a) a normal message: queued, relayed, carrying what rspamd added through the milter
            Swaks.Transcript clean = send("clean", message("lunch tomorrow",
                    "Hi Pepe,\r\n\r\nshall we meet at noon at the usual place?\r\n\r\nAna\r\n"));
            Matcher m = QUEUED.matcher(String.valueOf(clean.last("250 2.0.0")));
            assertTrue(m.find(), clean.result().output() + "\n--- rspamd:\n" + rspamd.log());
            String id = m.group(1);
            assertTrue(waitFor(() -> count(dumps) >= 1, 60), "nothing arrived: " + ItSupport.maillog(gw));
            String arrived;
            try (Stream<Path> s = Files.list(dumps)) {
                arrived = Files.readString(s.findFirst().orElseThrow(), StandardCharsets.ISO_8859_1);
            }
            String headers = arrived.substring(0, arrived.indexOf("\n\n") + 1);
            String why = arrived + "\n--- maillog:\n" + ItSupport.maillog(gw) + "\n--- rspamd:\n" + rspamd.log();
            // rspamd scanned it with the envelope the milter events carried (MAIL FROM, one RCPT) and the body
            assertTrue(Pattern.compile("(?m)^X-Spamd-Result: default: False \\[-?\\d+\\.\\d\\d / 15\\.00\\];").matcher(headers)
                    .find(), why);
            for (String symbol : new String[] {"MIME_GOOD(", "RCPT_COUNT_ONE(", "FROM_EQ_ENVFROM(", "TO_MATCH_ENVRCPT_ALL("}) {
                assertTrue(headers.contains(symbol), symbol + " missing: " + why);
            }
            // the i macro: rspamd names Estafeta's queue id; the j macro: Estafeta's myhostname is the authserv-id
            assertTrue(Pattern.compile("(?m)^X-Rspamd-Queue-Id: " + Pattern.quote(id) + "$").matcher(headers).find(), why);
            assertTrue(Pattern.compile("(?m)^Authentication-Results: gw\\.example\\.org;").matcher(headers).find(), why);
            assertTrue(Pattern.compile("(?m)^X-Rspamd-Server: \\S+$").matcher(headers).find(), why);
            assertEquals(1, Pattern.compile("(?m)^X-Spamd-Result:").matcher(headers).results().count(), why);
            assertTrue(headers.contains("Subject: lunch tomorrow") && arrived.contains("shall we meet at noon"), why);
            String accepted = ItSupport.maillog(gw).lines()
                    .filter(l -> l.contains(id + ": accept: filter smtpd_milters (org.estafeta.milter ")).findFirst()
                    .orElse("");
            for (String name : new String[] {"X-Spamd-Result", "Authentication-Results", "X-Rspamd-Server",
                    "X-Rspamd-Queue-Id"}) {
                assertTrue(Pattern.compile(": added .*\\b" + name + "\\b").matcher(accepted).find(), name + ": " + why);
            }

            // (b) GTUBE: rspamd's reject action comes back as a milter reply code, the client's end-of-DATA reply
            Swaks.Transcript spam = send("gtube", message("gtube", "This is the GTUBE\r\n\r\n" + PrivateRspamd.GTUBE
                    + "\r\n"));
            List<String> lines = spam.serverLines();
            int data = lines.indexOf(lines.stream().filter(l -> l.startsWith("354 ")).findFirst().orElse("?"));
            assertTrue(data >= 0 && data + 1 < lines.size(), spam.result().output());
            assertEquals("554 5.7.1 Gtube pattern", lines.get(data + 1), spam.result().output() + "\n--- rspamd:\n"
                    + rspamd.log());
            assertTrue(queueHoldsNothing(gw), "nothing queued after a reject");
            assertTrue(waitFor(() -> Pattern.compile(": reject: filter smtpd_milters \\(org\\.estafeta\\.milter \\S+\\) "
                    + "from localhost\\[127\\.0\\.0\\.1\\]; from=<ana@example\\.org> to=<pepe@example\\.net> "
                    + "proto=ESMTP helo=<[^>]*>: 5\\.7\\.1 Gtube pattern").matcher(ItSupport.maillog(g)).find(), 10),
                    ItSupport.maillog(gw));
            assertTrue(waitFor(() -> rspamd.log().contains("GTUBE"), 10), rspamd.log());
            assertEquals(1, count(dumps), "only the normal message went on");
        } finally {
            if (gw != null) {
                gw.stop();
            }
            sink.close();
        }
    }

    /** No queue file in any queue, and no spool or temporary file in tmp/. */
    private static boolean queueHoldsNothing(Gateway gw) {
        try (Stream<Path> s = Files.walk(gw.queueDirectory())) {
            return s.filter(Files::isRegularFile).map(p -> gw.queueDirectory().relativize(p).toString())
                    .noneMatch(p -> p.matches("(incoming|active|deferred|hold|tmp)/.*"));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false; // a file moved while walking: not settled yet
        }
    }

    private static long count(Path dumps) {
        try (Stream<Path> s = Files.list(dumps)) {
            return s.count();
        } catch (IOException e) {
            return 0;
        }
    }
}
