package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.estafeta.testing.PrivatePostfix;
import org.estafeta.testing.PrivatePymilter;
import org.estafeta.testing.SmtpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A milter's refusal at each stage, differentially: one real libmilter milter (pymilter running
 * {@link PrivatePymilter#STAGES}, whose decisions are chosen by address) serves both a private real Postfix and the
 * gateway, which get the same main.cf ({@code smtpd_milters} naming it) and the same smtpd line; each scenario is one
 * raw SMTP session sent to both, and the replies must be Postfix's, line by line. This proves what
 * {@link MilterStagesIT} expects from reading Postfix's source.
 *
 * <p>Normalized, because they must differ or are not what a scenario is about: the text of a {@code 220} greeting
 * (the banner names the mail system), the keyword lines of a 250 EHLO reply (what each side offers) except in the
 * CONNECT scenario, where Postfix's EHLO after a refusal is the point, and queue IDs. Everything else, codes,
 * enhanced codes and texts, is compared as is. Each scenario prints both sides' replies as a table (build log).
 *
 * <p>Accepted mail goes nowhere: {@code relayhost} names a loopback port nothing listens on, so Postfix defers it;
 * the gateway runs smtpd only and keeps it queued. Both are discarded with the test's directories.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MilterStagesPostfixIT {
    static final int POSTFIX_PORT = 28643;
    static final int ESTAFETA_PORT = 28644;
    /** A relayhost port nothing listens on: accepted mail is deferred, never delivered. */
    static final int NOWHERE_PORT = 28645;
    static final Pattern QUEUED = Pattern.compile("^(250 2\\.0\\.0 Ok: queued as )\\S+$");

    @TempDir
    static Path tmp;

    private PrivatePymilter milter;
    private PrivatePostfix postfix;
    private Gateway gw;

    static String mainCf(String milterAddress) {
        return String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = milter.example",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "relayhost = [127.0.0.1]:" + NOWHERE_PORT,
                "smtpd_milters = " + milterAddress,
                "minimal_backoff_time = 1h",
                "");
    }

    static String masterCf(int port) {
        return "127.0.0.1:" + port + " inet n - n - - smtpd\n";
    }

    @BeforeAll
    void start() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        milter = PrivatePymilter.start(tmp.resolve("pymilter"), PrivatePymilter.STAGES);
        postfix = PrivatePostfix.builder("milter-stages").mainCf(mainCf(milter.milterAddress()))
                .masterCf(masterCf(POSTFIX_PORT)).start();
        gw = EstafetaTarget.start(tmp.resolve("gw"), mainCf(milter.milterAddress()), masterCf(ESTAFETA_PORT));
        EstafetaTarget.awaitListener(ESTAFETA_PORT);
    }

    @AfterAll
    void stop() {
        if (gw != null) {
            gw.stop();
        }
        if (postfix != null) {
            postfix.close();
        }
        if (milter != null) {
            milter.close();
        }
    }

    /**
     * One step of a session: {@code line} is sent (with CRLF; null: nothing, the greeting is read) and one reply read.
     * {@code fullEhlo}: an EHLO reply is compared whole, keywords included.
     */
    record Step(String line, boolean fullEhlo) {
        static Step greeting() {
            return new Step(null, false);
        }

        static Step say(String line) {
            return new Step(line, false);
        }

        static Step ehloWhole(String line) {
            return new Step(line, true);
        }

        String shown() {
            if (line == null) {
                return "(greeting)";
            }
            return line.contains("\r\n") ? "(message)." : line;
        }
    }

    /** A message (DATA content, CRLF lines) with its final dot, Message-ID {@code <tag@sender.test>}. */
    static String message(String tag) {
        return "From: ana@sender.test\r\nTo: someone@dest.test\r\nSubject: " + tag
                + "\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + tag + "@sender.test>\r\n"
                + "\r\nthe body of " + tag + "\r\n.";
    }

    /** Runs the session from {@code localAddress} against 127.0.0.1:{@code port}; one normalized reply per step. */
    static List<String> session(int port, String localAddress, List<Step> steps) throws Exception {
        List<String> out = new ArrayList<>();
        try (SmtpClient c = SmtpClient.connect(port, localAddress)) {
            for (Step s : steps) {
                List<String> r = s.line() == null ? c.reply() : c.command(s.line());
                out.add(normalize(s, r));
            }
        }
        return out;
    }

    /** One reply as one string (lines joined with " | "), normalized as the class Javadoc says. */
    static String normalize(Step step, List<String> reply) {
        String first = reply.get(0);
        if (step.line() == null && first.startsWith("220 ")) {
            return "220 (banner)";
        }
        if (!step.fullEhlo() && step.line() != null && step.line().toUpperCase().startsWith("EHLO ")
                && first.startsWith("250") && reply.size() > 1) {
            return first + " | (EHLO keywords)";
        }
        List<String> lines = new ArrayList<>();
        for (String l : reply) {
            lines.add(QUEUED.matcher(l).replaceFirst("$1QUEUEID"));
        }
        return String.join(" | ", lines);
    }

    /**
     * Sends the session to Postfix and to the gateway, prints both sides' replies as a table and asserts that the
     * gateway's are Postfix's. {@code milterReply}: a reply Postfix must have given, proof that the milter decided
     * there (so that two sides both ignoring the milter cannot pass).
     */
    private void compare(String scenario, String localAddress, String milterReply, List<Step> steps)
            throws Exception {
        List<String> expected = session(POSTFIX_PORT, localAddress, steps);
        List<String> actual = session(ESTAFETA_PORT, localAddress, steps);
        StringBuilder table = new StringBuilder("\n=== MilterStagesPostfixIT: " + scenario + " (client "
                + (localAddress == null ? "127.0.0.1" : localAddress) + ")\n");
        table.append(String.format("%-36s | %-58s | %s%n", "command", "Postfix", "Estafeta"));
        for (int i = 0; i < steps.size(); i++) {
            String p = expected.get(i);
            String e = actual.get(i);
            table.append(String.format("%-36s | %-58s | %s%n", steps.get(i).shown(), p, p.equals(e) ? "(same)" : e
                    + "   <<< DIFFERS"));
        }
        System.out.print(table);
        System.out.flush();
        assertTrue(expected.contains(milterReply), "Postfix's side shows the milter's decision: " + milterReply
                + table + "\n--- Postfix maillog:\n" + postfix.maillog());
        assertEquals(String.join("\n", expected), String.join("\n", actual), scenario + ": the gateway's replies"
                + table + "\n--- milter events:\n" + String.join("\n", milter.events()) + "\n--- Postfix maillog:\n"
                + postfix.maillog() + "\n--- gateway maillog:\n" + ItSupport.maillog(gw));
    }

    /**
     * A 5xx at CONNECT: the greeting refuses, EHLO is answered (whole: Postfix then offers no extensions but
     * ENHANCEDSTATUSCODES), every MAIL FROM gets the milter's reply, RCPT has no transaction.
     */
    @Test
    void connectRefusal() throws Exception {
        compare("CONNECT refused", "127.0.0.2", "550 5.7.1 pymilter: connection from 127.0.0.2 refused", List.of(
                Step.greeting(),
                Step.ehloWhole("EHLO client.test"),
                Step.say("MAIL FROM:<ana@sender.test>"),
                Step.say("RCPT TO:<kept@dest.test>"),
                Step.say("MAIL FROM:<bob@sender.test>"),
                Step.say("QUIT")));
    }

    /**
     * A refusal at HELO: HELO is answered, MAIL FROM gets the milter's reply; a later EHLO (compared whole) does not
     * lift the refusal.
     */
    @Test
    void heloRefusal() throws Exception {
        compare("HELO refused", null, "550 5.7.1 pymilter: HELO reject.helo.test refused", List.of(
                Step.greeting(),
                Step.say("HELO reject.helo.test"),
                Step.say("MAIL FROM:<ana@sender.test>"),
                Step.say("RCPT TO:<kept@dest.test>"),
                Step.ehloWhole("EHLO client.test"),
                Step.say("MAIL FROM:<ana@sender.test>"),
                Step.say("QUIT")));
    }

    /** The same with EHLO, its reply compared whole: the refusal already shows in the extensions offered. */
    @Test
    void ehloRefusal() throws Exception {
        compare("EHLO refused", null, "550 5.7.1 pymilter: HELO reject.helo.test refused", List.of(
                Step.greeting(),
                Step.ehloWhole("EHLO reject.helo.test"),
                Step.say("MAIL FROM:<ana@sender.test>"),
                Step.say("QUIT")));
    }

    /** A refusal at MAIL answers that MAIL FROM only; the next transaction is asked again. */
    @Test
    void mailRefusal() throws Exception {
        compare("MAIL refused", null, "553 5.7.1 pymilter: sender refused", List.of(
                Step.greeting(),
                Step.say("EHLO client.test"),
                Step.say("MAIL FROM:<reject@sender.test>"),
                Step.say("RCPT TO:<kept@dest.test>"),
                Step.say("MAIL FROM:<ana@sender.test> SIZE=100"),
                Step.say("RCPT TO:<kept@dest.test>"),
                Step.say("QUIT")));
    }

    /** Refusals at RCPT answer that RCPT only; DATA goes to the recipient accepted. */
    @Test
    void rcptRefusals() throws Exception {
        compare("RCPT refused / deferred / accepted", null, "451 4.7.1 pymilter: recipient deferred", List.of(
                Step.greeting(),
                Step.say("EHLO client.test"),
                Step.say("MAIL FROM:<ana@sender.test>"),
                Step.say("RCPT TO:<reject@dest.test>"),
                Step.say("RCPT TO:<tempfail@dest.test>"),
                Step.say("RCPT TO:<kept@dest.test>"),
                Step.say("DATA"),
                Step.say(message("rcpt-stage")),
                Step.say("QUIT")));
    }

    /** Only refused recipients: DATA has no valid recipient. */
    @Test
    void rcptAllRefused() throws Exception {
        compare("RCPT all refused, then DATA", null, "550 5.7.1 pymilter: recipient refused", List.of(
                Step.greeting(),
                Step.say("EHLO client.test"),
                Step.say("MAIL FROM:<ana@sender.test>"),
                Step.say("RCPT TO:<reject@dest.test>"),
                Step.say("RCPT TO:<tempfail@dest.test>"),
                Step.say("DATA"),
                Step.say("QUIT")));
    }

    /** A refusal at DATA answers DATA instead of 354; RSET and a new transaction go on. */
    @Test
    void dataRefusal() throws Exception {
        compare("DATA refused", null, "554 5.7.1 pymilter: no data for nodata", List.of(
                Step.greeting(),
                Step.say("EHLO client.test"),
                Step.say("MAIL FROM:<ana@sender.test>"),
                Step.say("RCPT TO:<nodata@dest.test>"),
                Step.say("DATA"),
                Step.say("RSET"),
                Step.say("MAIL FROM:<ana@sender.test>"),
                Step.say("RCPT TO:<kept@dest.test>"),
                Step.say("DATA"),
                Step.say(message("after-nodata")),
                Step.say("QUIT")));
    }
}
