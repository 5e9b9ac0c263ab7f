package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.estafeta;
import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.estafeta.testing.PrivatePymilter;
import org.estafeta.testing.SmtpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Milters answer at the stage they decide, end to end through the real mail path: Estafeta with
 * {@code smtpd_milters} pointing at a real libmilter milter (pymilter running {@link PrivatePymilter#STAGES}, whose
 * decisions are chosen by address) relays to Postfix's smtp-sink, which keeps each transaction with its envelope
 * ({@code X-Mail-Args}, {@code X-Rcpt-Args}). Clients speak raw SMTP, so each command's reply is checked where it
 * comes. What Postfix does is the reference (smtpd.c and milter8.c):
 * <ul>
 * <li>a 5xx at CONNECT: the greeting is {@code 554 <myhostname> ESMTP not accepting connections}, HELO/EHLO is still
 *     answered 250, and MAIL FROM gets the milter's reply, for the rest of the session;</li>
 * <li>a refusal at HELO: HELO/EHLO is answered 250 (Sendmail compatibility), MAIL FROM gets the milter's reply;</li>
 * <li>at MAIL: the milter's reply to that MAIL FROM; the next transaction is asked again;</li>
 * <li>at RCPT: the milter's reply to that RCPT only; DATA delivers to the recipients accepted;</li>
 * <li>at the end of the message: the modification requests are applied to what is queued and relayed: header
 *     change and deletion, added header, added and deleted recipients, new sender, new body; a quarantine puts the
 *     message on hold.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MilterStagesIT {
    static final int SMTPD_PORT = 28641;
    static final int SINK_PORT = 28642;
    static final int AUTH_PORT = 28646;
    static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");

    @TempDir
    static Path tmp;

    private SmtpSink sink;
    private Path dumps;
    private PrivatePymilter milter;
    private Gateway gw;

    @BeforeAll
    void start() throws Exception {
        sink = SmtpSink.start(tmp, "sink", SINK_PORT);
        dumps = sink.dir;
        milter = PrivatePymilter.start(tmp.resolve("pymilter"), PrivatePymilter.STAGES);
        gw = EstafetaTarget.start(tmp.resolve("gw"), String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = gw.example.org",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "relayhost = [127.0.0.1]:" + SINK_PORT,
                "smtpd_milters = " + milter.milterAddress(),
                "non_smtpd_milters = $smtpd_milters",
                "minimal_backoff_time = 1h",
                ""), String.join("\n",
                "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                "127.0.0.1:" + AUTH_PORT + " inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes",
                "  -o smtpd_sasl_local_domain=example.org",
                "pickup fifo n - n 60 1 pickup",
                "qmgr unix n - n 300 1 qmgr",
                "smtp unix - - n - - smtp",
                "error unix - - n - - error",
                ""));
        EstafetaTarget.awaitListener(SMTPD_PORT);
        EstafetaTarget.awaitListener(AUTH_PORT);
    }

    @AfterAll
    void stop() throws Exception {
        if (gw != null) {
            gw.stop();
        }
        if (milter != null) {
            milter.close();
        }
        if (sink != null) {
            sink.close();
        }
    }

    private String why() {
        return "\n--- maillog:\n" + ItSupport.maillog(gw) + "\n--- milter events:\n"
                + String.join("\n", milter.events()) + "\n--- milter output:\n" + milter.output();
    }

    /** Whether the maillog has a line matching {@code regex} somewhere. */
    private boolean logged(String regex) {
        return Pattern.compile(regex).matcher(ItSupport.maillog(gw)).find();
    }

    /** The one-line reply to {@code command} (a multi-line reply: its last line). */
    private static String say(SmtpClient c, String command) throws IOException {
        List<String> r = c.command(command);
        return r.get(r.size() - 1);
    }

    @Test
    void aRefusalAtConnectAnswersMailFromForTheWholeSession() throws Exception {
        try (SmtpClient c = SmtpClient.connect(SMTPD_PORT, "127.0.0.2")) {
            assertEquals("554 gw.example.org ESMTP not accepting connections", c.reply().get(0), why());
            assertTrue(say(c, "EHLO client.test").startsWith("250 "), "Postfix never refuses EHLO here" + why());
            assertEquals("550 5.7.1 pymilter: connection from 127.0.0.2 refused", say(c, "MAIL FROM:<ana@sender.test>"),
                    why());
            assertTrue(say(c, "RCPT TO:<kept@dest.test>").startsWith("503 5.5.1 "), why());
            assertEquals("550 5.7.1 pymilter: connection from 127.0.0.2 refused", say(c, "MAIL FROM:<bob@sender.test>"),
                    "the refusal holds for the session" + why());
            assertTrue(say(c, "QUIT").startsWith("221 "), why());
        }
        assertTrue(waitFor(() -> Pattern.compile("NOQUEUE: milter-reject: CONNECT from \\S*\\[127\\.0\\.0\\.2\\]: "
                + "550 5\\.7\\.1 pymilter: connection from 127\\.0\\.0\\.2 refused").matcher(ItSupport.maillog(gw))
                .find(), 10), why());
        assertTrue(milter.events().stream().anyMatch(e -> e.startsWith("connect ") && e.endsWith(" 127.0.0.2")), why());
    }

    @Test
    void aRefusalAtHeloAnswersMailFrom() throws Exception {
        try (SmtpClient c = SmtpClient.connect(SMTPD_PORT, null)) {
            assertTrue(c.reply().get(0).startsWith("220 "), why());
            assertTrue(say(c, "EHLO reject.helo.test").startsWith("250 "),
                    "Postfix answers HELO/EHLO 250 after a milter's refusal (Sendmail compatibility)" + why());
            assertEquals("550 5.7.1 pymilter: HELO reject.helo.test refused", say(c, "MAIL FROM:<ana@sender.test>"),
                    why());
            assertTrue(say(c, "QUIT").startsWith("221 "), why());
        }
        assertTrue(milter.events().contains("helo reject.helo.test"), why());
    }

    @Test
    void aRefusalAtMailAnswersThatMailFrom() throws Exception {
        try (SmtpClient c = SmtpClient.connect(SMTPD_PORT, null)) {
            assertTrue(c.reply().get(0).startsWith("220 "), why());
            assertTrue(say(c, "EHLO client.test").startsWith("250 "), why());
            assertEquals("553 5.7.1 pymilter: sender refused", say(c, "MAIL FROM:<reject@sender.test>"), why());
            assertTrue(say(c, "RCPT TO:<kept@dest.test>").startsWith("503 5.5.1 "), why());
            assertEquals("250 2.1.0 Ok", say(c, "MAIL FROM:<ana@sender.test> SIZE=100"),
                    "only that transaction was refused" + why());
            assertTrue(say(c, "QUIT").startsWith("221 "), why());
        }
        assertTrue(waitFor(() -> milter.events().contains("mail <ana@sender.test> SIZE=100"), 10), why());
        assertTrue(waitFor(() -> logged("NOQUEUE: milter-reject: MAIL from \\S+\\[127\\.0\\.0\\.1\\]: 553 5\\.7\\.1 "
                + "pymilter: sender refused; from=<reject@sender\\.test>"), 10), why());
    }

    @Test
    void recipientsAreRefusedAtTheirRcptAndDataGoesToTheOthers() throws Exception {
        String id;
        try (SmtpClient c = SmtpClient.connect(SMTPD_PORT, null)) {
            assertTrue(c.reply().get(0).startsWith("220 "), why());
            assertTrue(say(c, "EHLO client.test").startsWith("250 "), why());
            assertEquals("250 2.1.0 Ok", say(c, "MAIL FROM:<ana@sender.test>"), why());
            assertEquals("550 5.7.1 pymilter: recipient refused", say(c, "RCPT TO:<reject@dest.test>"), why());
            assertEquals("451 4.7.1 pymilter: recipient deferred", say(c, "RCPT TO:<tempfail@dest.test>"), why());
            assertEquals("250 2.1.5 Ok", say(c, "RCPT TO:<kept@dest.test>"), why());
            assertTrue(say(c, "DATA").startsWith("354 "), why());
            String queued = say(c, message("rcpt-stage", "recipients one by one", "") + ".");
            Matcher m = QUEUED.matcher(queued);
            assertTrue(m.find(), queued + why());
            id = m.group(1);
            assertTrue(say(c, "QUIT").startsWith("221 "), why());
        }
        List<String> events = milter.events();
        int refused = events.indexOf("rcpt <reject@dest.test> rcpt_addr=reject@dest.test");
        int data = events.indexOf("data i=" + id);
        assertTrue(refused >= 0 && data > refused,
                "RCPT went to the milter before DATA, DATA with the queue ID" + why());
        String arrived = arrived("rcpt-stage");
        assertEquals(List.of("kept@dest.test"), recipients(arrived), arrived + why());
        assertTrue(waitFor(() -> logged("NOQUEUE: milter-reject: RCPT from \\S+\\[127\\.0\\.0\\.1\\]: 550 5\\.7\\.1 "
                + "pymilter: recipient refused; from=<ana@sender\\.test> to=<reject@dest\\.test>"), 10), why());
    }

    @Test
    void aRefusalAtDataAnswersData() throws Exception {
        try (SmtpClient c = SmtpClient.connect(SMTPD_PORT, null)) {
            assertTrue(c.reply().get(0).startsWith("220 "), why());
            assertTrue(say(c, "EHLO client.test").startsWith("250 "), why());
            assertEquals("250 2.1.0 Ok", say(c, "MAIL FROM:<ana@sender.test>"), why());
            assertEquals("250 2.1.5 Ok", say(c, "RCPT TO:<nodata@dest.test>"), why());
            assertEquals("554 5.7.1 pymilter: no data for nodata", say(c, "DATA"), "instead of 354" + why());
            assertEquals("250 2.0.0 Ok", say(c, "RSET"), why());
            assertTrue(say(c, "QUIT").startsWith("221 "), why());
        }
        assertTrue(waitFor(() -> logged("NOQUEUE: milter-reject: DATA from \\S+\\[127\\.0\\.0\\.1\\]: 554 5\\.7\\.1 "
                + "pymilter: no data for nodata; from=<ana@sender\\.test> to=<nodata@dest\\.test> proto=ESMTP"), 10), why());
    }

    @Test
    void endOfMessageModificationsAreAppliedToWhatIsRelayed() throws Exception {
        String id = queue(message("modify", "please modify this", "X-Delete-Me: yes\r\n"), "kept2@dest.test",
                "remove@dest.test");
        String arrived = arrived("modify");
        String why = arrived + why();
        assertEquals(List.of("added@dest.test", "kept2@dest.test"), recipients(arrived), "addrcpt and delrcpt" + why);
        assertTrue(arrived.contains("X-Mail-Args: <new-sender@sender.test>"), "chgfrom" + why);
        String headers = arrived.substring(0, arrived.indexOf("\n\n") + 1);
        String body = arrived.substring(arrived.indexOf("\n\n") + 2);
        assertTrue(headers.contains("\nSubject: modified by pymilter\n"), "chgheader" + why);
        assertFalse(headers.contains("please modify"), why);
        assertFalse(headers.contains("X-Delete-Me"), "chgheader without a value deletes" + why);
        assertTrue(headers.contains("\nX-Pymilter: modified\n"), "addheader" + why);
        // smtp-sink ends each dump with an empty line of its own
        assertEquals("body replaced by pymilter", body.strip(), "replacebody" + why);
        assertFalse(arrived.contains("the original body"), why);
        String q = Pattern.quote(id);
        // smtp logs each delivery once smtp-sink answered: wait for both lines before reading the maillog
        assertTrue(waitFor(() -> logged(q + ": to=<kept2@dest\\.test>, .*status=sent")
                && logged(q + ": to=<added@dest\\.test>, .*status=sent"), 20), "both recipients delivered" + why);
        String log = ItSupport.maillog(gw);
        assertTrue(Pattern.compile(q
                + ": accept: filter smtpd_milters \\(org\\.estafeta\\.milter \\S+\\) "
                + "from \\S+\\[127\\.0\\.0\\.1\\]; from=<ana@sender\\.test> to=<\\S+> proto=ESMTP "
                + "helo=<client\\.test>: "
                + "added X-Pymilter; edited Subject\\[1\\], -X-Delete-Me\\[1\\]; added recipients added@dest\\.test; "
                + "removed recipients remove@dest\\.test; sender changed to <new-sender@sender\\.test>; "
                + "replaced the body").matcher(log).find(), why);
        assertTrue(Pattern.compile(Pattern.quote(id) + ": from=<new-sender@sender\\.test>, size=").matcher(log).find(),
                "qmgr logs the new sender" + why);
        assertFalse(log.contains(id + ": to=<remove@dest.test>"), "the deleted recipient gets nothing" + why);
    }

    @Test
    void aQuarantinedMessageIsHeld() throws Exception {
        String id = queue(message("quarantine", "quarantine me", ""), "held@dest.test");
        Path conf = tmp.resolve("gw/conf");
        Path var = tmp.resolve("gw/var");
        String held = id;
        assertTrue(waitFor(() -> {
            try {
                return estafeta(conf, var, "postqueue", "-p").stdout().contains(held + "!");
            } catch (Exception e) {
                return false;
            }
        }, 20), estafeta(conf, var, "postqueue", "-p").output() + why());
        assertTrue(waitFor(() -> logged(Pattern.quote(held)
                + ": hold: filter smtpd_milters \\(org\\.estafeta\\.milter \\S+\\) "
                + "from \\S+\\[127\\.0\\.0\\.1\\]; .*: milter " + Pattern.quote(milter.milterAddress())
                + ": pymilter: quarantined"), 10), why());
        Thread.sleep(2000);
        assertTrue(dumpsWith("quarantine").isEmpty(), "a held message is not relayed" + why());
    }

    /**
     * non_smtpd_milters: mail submitted with {@code estafeta sendmail} reaches the milter through pickup, as a
     * connection from localhost with one transaction, and the milter's end-of-message changes are applied.
     */
    @Test
    void locallySubmittedMailGoesThroughNonSmtpdMilters() throws Exception {
        ItSupport.Result r = LocalSubmission.sendmail(tmp.resolve("gw/conf"), tmp.resolve("gw/var"),
                message("local-modify", "please modify this local one", "").replace("\r\n", "\n"),
                "-f", "ana@sender.test", "--", "kept-local@dest.test", "remove@dest.test");
        assertEquals(0, r.exit(), r.output());
        String arrived = arrived("local-modify");
        String why = arrived + why();
        assertEquals(List.of("added@dest.test", "kept-local@dest.test"), recipients(arrived), "addrcpt and delrcpt" + why);
        assertTrue(arrived.contains("X-Mail-Args: <new-sender@sender.test>"), "chgfrom" + why);
        assertTrue(arrived.contains("\nSubject: modified by pymilter\n"), "chgheader" + why);
        assertTrue(logged("accept: filter non_smtpd_milters \\(org\\.estafeta\\.milter \\S+\\)"), why);
    }

    @Test
    void aQuarantinedMessageIsHeldWithTheMiltersChangesApplied() throws Exception {
        String id = queue(message("quarantine-modify", "modify and quarantine me", ""), "held2@dest.test");
        Path conf = tmp.resolve("gw/conf");
        Path var = tmp.resolve("gw/var");
        String held = id;
        assertTrue(waitFor(() -> {
            try {
                return estafeta(conf, var, "postqueue", "-p").stdout().contains(held + "!");
            } catch (Exception e) {
                return false;
            }
        }, 20), why());
        // as Postfix: the quarantined message keeps the milter's modifications
        String content = estafeta(conf, var, "postcat", "-q", held).stdout();
        assertTrue(content.contains("Subject: modified by pymilter") && content.contains("X-Pymilter: modified")
                && content.contains("body replaced by pymilter"), content + why());
    }

    /** SMTP AUTH reaches the milter as Postfix's MAIL FROM macros {auth_type} and {auth_authen}. */
    @Test
    void anAuthenticatedClientsMechanismAndNameReachTheMilterWithMail() throws Exception {
        Path conf = tmp.resolve("gw/conf");
        org.estafeta.testing.ProcessRunner.Result passwd = org.estafeta.testing.ProcessRunner.run(
                List.of(ItSupport.home().resolve("bin/estafeta").toString(), "-c", conf.toString(), "saslpasswd", "-c",
                        "-p", "-u", "example.org", "ana"),
                java.util.Map.of("ESTAFETA_VAR", tmp.resolve("gw/var").toString()), "ana-secret\n", 60);
        assertEquals(0, passwd.exit(), passwd.output());
        org.estafeta.testing.Swaks.Transcript t = org.estafeta.testing.Swaks.run(AUTH_PORT, "--auth", "PLAIN",
                "--auth-user", "ana", "--auth-password", "ana-secret", "--from", "ana@sender.test", "--to",
                "kept@dest.test");
        assertTrue(t.serverLines().contains("235 2.7.0 Authentication successful"), t.result().output() + why());
        t.queueId();
        assertTrue(waitFor(() -> milter.events().contains("mail-macros auth_type=PLAIN auth_authen=ana@example.org"),
                10), why());
        org.estafeta.testing.Swaks.run(SMTPD_PORT, "--from", "bob@sender.test", "--to", "kept@dest.test").queueId();
        assertTrue(waitFor(() -> milter.events().contains("mail-macros auth_type=None auth_authen=None"), 10),
                "an unauthenticated client has none" + why());
    }

    /**
     * One accepted transaction from ana@sender.test to {@code rcpts} with {@code message}: every reply as expected,
     * the queue ID of the end of DATA.
     */
    private String queue(String message, String... rcpts) throws IOException {
        try (SmtpClient c = SmtpClient.connect(SMTPD_PORT, null)) {
            assertTrue(c.reply().get(0).startsWith("220 "), why());
            assertTrue(say(c, "EHLO client.test").startsWith("250 "), why());
            assertEquals("250 2.1.0 Ok", say(c, "MAIL FROM:<ana@sender.test>"), why());
            for (String rcpt : rcpts) {
                assertEquals("250 2.1.5 Ok", say(c, "RCPT TO:<" + rcpt + ">"), why());
            }
            assertTrue(say(c, "DATA").startsWith("354 "), why());
            String queued = say(c, message + ".");
            Matcher m = QUEUED.matcher(queued);
            assertTrue(m.find(), queued + why());
            assertTrue(say(c, "QUIT").startsWith("221 "), why());
            return m.group(1);
        }
    }

    /** A message (DATA content, CRLF lines, without the final dot) with Message-ID {@code <tag@sender.test>}. */
    private static String message(String tag, String subject, String extraHeaders) {
        return "From: ana@sender.test\r\nTo: someone@dest.test\r\nSubject: " + subject
                + "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + tag + "@sender.test>\r\n"
                + extraHeaders + "\r\nthe original body of " + tag + "\r\n";
    }

    /** What smtp-sink kept of the transactions with Message-ID {@code <tag@sender.test>} (waits up to 60 s). */
    private String arrived(String tag) throws Exception {
        assertTrue(waitFor(() -> !dumpsWith(tag).isEmpty(), 60), "nothing arrived for " + tag + why());
        Thread.sleep(500); // a second transaction of the same message (another recipient batch) may follow
        StringBuilder all = new StringBuilder();
        for (String s : dumpsWith(tag)) {
            all.append(s);
        }
        return all.toString();
    }

    private List<String> dumpsWith(String tag) {
        List<String> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dumps)) {
            for (Path f : files.toList()) {
                String s = Files.readString(f, StandardCharsets.ISO_8859_1);
                if (s.contains("Message-ID: <" + tag + "@sender.test>")) {
                    out.add(s);
                }
            }
        } catch (IOException e) {
            // a file being written: seen at the next look
        }
        return out;
    }

    /** The envelope recipients smtp-sink recorded ({@code X-Rcpt-Args: <addr>}), sorted. */
    private static List<String> recipients(String dump) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^X-Rcpt-Args: <([^>]*)>").matcher(dump);
        while (m.find()) {
            out.add(m.group(1));
        }
        out.sort(null);
        return out;
    }
}
