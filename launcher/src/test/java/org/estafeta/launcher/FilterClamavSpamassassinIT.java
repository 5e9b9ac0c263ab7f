package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.estafeta.testing.PrivateClamd;
import org.estafeta.testing.PrivateSpamd;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-process content filters on the running gateway: {@code estafeta_content_filters = clamav, spamassassin} with a
 * private clamd (PrivateClamd: a signature database with EICAR) and a private spamd (PrivateSpamd: Debian's rules),
 * both on unix sockets, and Postfix's smtp-sink downstream. swaks sends through Estafeta's smtpd: EICAR as an
 * attachment gets clamd's 5xx at the end of DATA and nothing is queued; GTUBE is rejected by SpamAssassin; clean mail
 * arrives downstream carrying X-Spam-Status and X-Spam-Score; with clamd stopped the client hears 451 4.3.0, and the
 * same message goes through once clamd is back. After a reload with {@code clamav_action = hold} and
 * {@code estafeta_content_filter_fail_open = spamassassin}, EICAR goes to the hold queue and, with spamd stopped, clean
 * mail passes on unchecked with a warning. The maillog has one line per verdict naming filter and bundle.
 */
class FilterClamavSpamassassinIT {
    static final int SMTP_PORT = 27461;
    static final int SINK_PORT = 27462;
    static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");
    static final String BUNDLE_VERSION = "0\\.1\\.0\\S*";

    @TempDir
    Path tmp;

    private static String message(String subject, String body) {
        return "From: ana@example.org\r\nTo: pepe@example.net\r\nSubject: " + subject
                + "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + subject.replace(' ', '.')
                + "@example.org>\r\n\r\n" + body;
    }

    private static String eicarAttachment() {
        return "From: ana@example.org\r\nTo: pepe@example.net\r\nSubject: the file you asked for\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                + "--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                + "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
                + "Content-Disposition: attachment; filename=\"eicar.com\"\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString(PrivateClamd.EICAR.getBytes(StandardCharsets.US_ASCII))
                + "\r\n--b1--\r\n";
    }

    /** swaks with this message as DATA; returns its transcript. */
    private Swaks.Transcript send(String name, String data) throws Exception {
        Path file = tmp.resolve(name + ".eml");
        Files.writeString(file, data, StandardCharsets.US_ASCII);
        return Swaks.run(SMTP_PORT, "--from", "ana@example.org", "--to", "pepe@example.net", "--data", "@" + file);
    }

    @Test
    void virusAndSpamAreRejectedCleanMailArrivesTaggedAndAMissingClamdIs451() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        SmtpSink sink = SmtpSink.start(tmp, "sink", SINK_PORT);
        Path dumps = sink.dir;
        PrivateClamd clamd = null;
        PrivateSpamd spamd = null;
        Gateway gw = null;
        try {
            clamd = PrivateClamd.start(tmp.resolve("clamd"), 0, 10 * 1024 * 1024);
            spamd = PrivateSpamd.start(tmp.resolve("spamd"), 0);
            gw = EstafetaTarget.start(tmp, String.join("\n",
                    "compatibility_level = 3.6",
                    "myhostname = filter-host.estafeta.test",
                    "mydestination =",
                    "mynetworks = 127.0.0.0/8",
                    "relayhost = [127.0.0.1]:" + SINK_PORT,
                    "estafeta_content_filters = clamav, spamassassin",
                    "estafeta_content_filter_timeout = 30s",
                    "clamav_server = " + clamd.unixAddress(),
                    "spamassassin_server = " + spamd.unixAddress(),
                    ""), String.join("\n",
                    "127.0.0.1:" + SMTP_PORT + "      inet  n       -       n       -       -       smtpd",
                    "qmgr      unix  n       -       n       300     1       qmgr",
                    "smtp      unix  -       -       n       -       -       smtp",
                    ""));
            Gateway g = gw;
            EstafetaTarget.awaitListener(SMTP_PORT);

            // EICAR: clamd's verdict at the end of DATA, nothing queued
            Swaks.Transcript virus = send("virus", eicarAttachment());
            String reply = virus.last("554");
            assertEquals("554 5.7.1 Virus found: Eicar-Signature.UNOFFICIAL", reply, virus.serverLines().toString());
            assertTrue(queueHoldsNothing(gw), "nothing queued after a reject");
            assertTrue(ItSupport.waitFor(() -> Pattern.compile(": reject: filter clamav \\(org\\.estafeta\\.filter-clamav "
                    + BUNDLE_VERSION + "\\) from localhost\\[127\\.0\\.0\\.1\\]; from=<ana@example\\.org> "
                    + "to=<pepe@example\\.net> proto=ESMTP helo=<[^>]*>: 5\\.7\\.1 Virus found: Eicar-Signature\\.UNOFFICIAL")
                    .matcher(ItSupport.maillog(g)).find(), 10), ItSupport.maillog(gw));

            // GTUBE: clean for clamd, spam for SpamAssassin (1000 >= spamassassin_reject_score 15)
            Swaks.Transcript spam = send("spam", message("gtube", "This is the GTUBE\r\n\r\n" + PrivateSpamd.GTUBE
                    + "\r\n"));
            assertEquals("554 5.7.1 Spam message rejected", spam.last("554"), spam.serverLines().toString());
            assertTrue(queueHoldsNothing(gw), "nothing queued after a reject");
            assertTrue(ItSupport.waitFor(() -> ItSupport.maillog(g).contains(": reject: filter spamassassin (org.estafeta.filter-spamassassin 0.1.0"), 10),
                    ItSupport.maillog(gw));

            // clean mail: queued, relayed, and it arrives with SpamAssassin's headers
            Swaks.Transcript clean = send("clean", message("lunch tomorrow",
                    "Hi Pepe,\r\n\r\nshall we meet at noon at the usual place?\r\n\r\nAna\r\n"));
            Matcher m = QUEUED.matcher(String.valueOf(clean.last("250 2.0.0")));
            assertTrue(m.find(), clean.serverLines().toString());
            String id = m.group(1);
            // smtp-sink's file may exist before it is complete: wait for the end of the message text
            assertTrue(ItSupport.waitFor(() -> {
                try {
                    return arrivedWith(dumps, "shall we meet at noon").isPresent();
                } catch (java.io.IOException e) {
                    return false;
                }
            }, 60), "nothing arrived: " + ItSupport.maillog(gw));
            String arrived = arrivedWith(dumps, "shall we meet at noon").orElseThrow();
            assertTrue(Pattern.compile("(?m)^X-Spam-Status: No, score=-?\\d+\\.\\d required=5\\.0").matcher(arrived).find(),
                    arrived);
            assertTrue(Pattern.compile("(?m)^X-Spam-Score: -?\\d+\\.\\d\r?$").matcher(arrived).find(), arrived);
            int received = arrived.indexOf("by filter-host.estafeta.test (Estafeta) with ESMTP id " + id);
            int status = arrived.indexOf("X-Spam-Status:");
            int subject = arrived.indexOf("Subject: lunch tomorrow");
            assertTrue(received >= 0 && received < status && status < subject,
                    "the filter's headers sit below Estafeta's Received and above the client's headers: " + arrived);
            String log = ItSupport.maillog(gw);
            assertTrue(Pattern.compile(Pattern.quote(id) + ": accept: filter clamav \\(org\\.estafeta\\.filter-clamav "
                    + BUNDLE_VERSION + "\\) from .*: no headers added").matcher(log).find(), log);
            assertTrue(Pattern.compile(Pattern.quote(id) + ": accept: filter spamassassin \\(org\\.estafeta\\.filter-spamassassin "
                    + BUNDLE_VERSION + "\\) from .*: added X-Spam-Checker-Version, X-Spam-Level, X-Spam-Status, X-Spam-Score")
                    .matcher(log).find(), log);

            // clamd stopped: 451 4.3.0, nothing queued; the client's retry goes through once clamd is back
            clamd.stop();
            Swaks.Transcript down = send("retry", message("while clamd is down", "try me again\r\n"));
            assertEquals("451 4.3.0 Error: content filter temporarily unavailable", down.last("451"),
                    down.serverLines().toString());
            assertTrue(ItSupport.waitFor(() -> queueHoldsNothing(g), 10), "nothing queued after a 451");
            assertTrue(ItSupport.waitFor(() -> Pattern.compile("warning: \\S+: filter clamav \\(org\\.estafeta\\.filter-clamav "
                    + BUNDLE_VERSION + "\\): connect to unix:" + Pattern.quote(clamdSocket(tmp)) + ": .* -- message not "
                    + "accepted, try again later").matcher(ItSupport.maillog(g)).find(), 10), ItSupport.maillog(gw));
            clamd.start();
            Swaks.Transcript retry = send("retry", message("while clamd is down", "try me again\r\n"));
            assertTrue(QUEUED.matcher(String.valueOf(retry.last("250 2.0.0"))).find(), retry.serverLines().toString());
            assertTrue(ItSupport.waitFor(() -> count(dumps) >= 2, 60), "the retry did not arrive: " + ItSupport.maillog(gw));
            assertEquals(2, count(dumps), "exactly the clean message and the retry arrived");

            // reload: infected mail to the hold queue, and spamd allowed to fail open
            Path mainCf = tmp.resolve("conf/main.cf");
            Files.writeString(mainCf, Files.readString(mainCf) + "clamav_action = hold\n"
                    + "estafeta_content_filter_fail_open = spamassassin\n"
                    + "spamassassin_reject_score =\nspamassassin_hold_score = 5\n");
            ItSupport.Result reload = ItSupport.estafeta(tmp.resolve("conf"), tmp.resolve("var"), "reload");
            assertEquals(0, reload.exit(), reload.output());
            Swaks.Transcript held = send("held", eicarAttachment());
            m = QUEUED.matcher(String.valueOf(held.last("250 2.0.0")));
            assertTrue(m.find(), held.serverLines().toString());
            String heldId = m.group(1);
            assertTrue(Files.exists(gw.queueDirectory().resolve("hold").resolve(heldId)), "in hold/: " + ItSupport.maillog(gw));
            assertTrue(ItSupport.maillog(gw).contains(heldId + ": hold: filter clamav (org.estafeta.filter-clamav 0.1.0"),
                    ItSupport.maillog(gw));
            assertTrue(ItSupport.maillog(gw).contains("proto=ESMTP helo=<") && ItSupport.maillog(gw)
                    .contains(": virus found: Eicar-Signature.UNOFFICIAL"), ItSupport.maillog(gw));

            // SpamAssassin's quarantine threshold (spamassassin_hold_score, no reject score now): GTUBE is held
            Swaks.Transcript quarantined = send("quarantined", message("gtube held", "This is the GTUBE\r\n\r\n"
                    + PrivateSpamd.GTUBE + "\r\n"));
            m = QUEUED.matcher(String.valueOf(quarantined.last("250 2.0.0")));
            assertTrue(m.find(), quarantined.serverLines().toString());
            String spamHeldId = m.group(1);
            assertTrue(Files.exists(gw.queueDirectory().resolve("hold").resolve(spamHeldId)),
                    "GTUBE in hold/: " + ItSupport.maillog(gw));
            assertTrue(ItSupport.maillog(gw).contains(spamHeldId
                    + ": hold: filter spamassassin (org.estafeta.filter-spamassassin 0.1.0"), ItSupport.maillog(gw));
            String heldText = ItSupport.estafeta(tmp.resolve("conf"), tmp.resolve("var"), "postcat", "-q", spamHeldId)
                    .stdout();
            assertTrue(heldText.contains("X-Spam-Flag: YES") && heldText.contains("X-Spam-Score: "),
                    "held with SpamAssassin's headers: " + heldText);

            spamd.stop();
            Swaks.Transcript open = send("open", message("spamd is down", "pass me on\r\n"));
            m = QUEUED.matcher(String.valueOf(open.last("250 2.0.0")));
            assertTrue(m.find(), open.serverLines().toString());
            String openId = m.group(1);
            assertTrue(ItSupport.waitFor(() -> count(dumps) >= 3, 60), "the fail-open message did not arrive: "
                    + ItSupport.maillog(gw));
            assertTrue(Pattern.compile("warning: " + openId + ": filter spamassassin \\(org\\.estafeta\\.filter-spamassassin "
                    + BUNDLE_VERSION + "\\): connect to unix:\\S+: .* -- estafeta_content_filter_fail_open: message passed "
                    + "on without this filter").matcher(ItSupport.maillog(gw)).find(), ItSupport.maillog(gw));
            // smtp-sink's file may exist before it is complete: wait for the message text itself
            assertTrue(ItSupport.waitFor(() -> {
                try {
                    return arrivedWith(dumps, "Subject: spamd is down").isPresent();
                } catch (java.io.IOException e) {
                    return false;
                }
            }, 30), "the fail-open message is not in the sink");
            assertTrue(arrivedWith(dumps, "Subject: spamd is down").map(a -> !a.contains("X-Spam-Status")).orElse(false),
                    "passed on unchecked, so without SpamAssassin's headers");
            assertTrue(!ItSupport.maillog(gw).contains("unused parameter"), "every filter parameter is registered: "
                    + ItSupport.maillog(gw));
        } finally {
            if (gw != null) {
                gw.stop();
            }
            if (clamd != null) {
                clamd.close();
            }
            if (spamd != null) {
                spamd.close();
            }
            sink.close();
        }
    }

    /** The message that arrived downstream containing {@code text}. */
    private static java.util.Optional<String> arrivedWith(Path dumps, String text) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dumps)) {
            for (Path p : s.toList()) {
                String m = Files.readString(p, StandardCharsets.ISO_8859_1);
                if (m.contains(text)) {
                    return java.util.Optional.of(m);
                }
            }
        }
        return java.util.Optional.empty();
    }

    private static String clamdSocket(Path tmp) {
        return tmp.resolve("clamd").resolve("clamd.sock").toString();
    }

    /** No queue file in any queue, and no spool or temporary file in tmp/. */
    private static boolean queueHoldsNothing(Gateway gw) {
        try (Stream<Path> s = Files.walk(gw.queueDirectory())) {
            return s.filter(Files::isRegularFile).map(p -> gw.queueDirectory().relativize(p).toString())
                    .noneMatch(p -> p.matches("(incoming|active|deferred|hold|tmp)/.*"));
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return false; // a file moved while walking: not settled yet
        }
    }

    private static long count(Path dumps) {
        try (Stream<Path> s = Files.list(dumps)) {
            return s.count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
