package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.estafeta.testing.PySmtplib;
import org.estafeta.testing.SmtpClient;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SMTP protocol conformance, written once and run against two servers with the same main.cf, the same master.cf
 * smtpd line and the same sessions: {@link SmtpdProtocolPostfixIT} (a private real Postfix 3.7) and
 * {@link SmtpdProtocolEstafetaIT} (the gateway). The expected replies below are Postfix's, copied from its
 * answers; the Postfix run proves them on every build, so the Estafeta run is a differential test against
 * Postfix that still checks something on a machine without Postfix.
 *
 * <p>Replies are compared whole: code, enhanced code and text. The only normalization is the queue ID in
 * {@code 250 2.0.0 Ok: queued as ID} (random by design on both servers). Host names need none: main.cf sets
 * {@code myhostname}, and {@code smtpd_banner} is set to {@code $myhostname ESMTP} because its default names the
 * product ({@code $mail_name}: Postfix or Estafeta).
 *
 * <p>Clients: swaks, Python's smtplib and a raw socket (for exact pipelining). The client outside
 * {@code mynetworks} is bound to 127.0.0.2.
 */
abstract class SmtpdProtocolScenarios {
    /** Tutorial section 1.2 where it applies (helo required, VRFY off, size limit), plus Postfix 3's compatibility level. */
    static final String MAIN_CF = String.join("\n",
            "# SmtpdProtocol*IT: the same file for Postfix and Estafeta",
            "compatibility_level = 3.6",
            "myhostname = relay.univ.es",
            "mydomain = univ.es",
            "smtpd_banner = $myhostname ESMTP",
            "mynetworks = 127.0.0.1 192.168.0.0/16",
            "mydestination = $myhostname localhost.$mydomain",
            "relay_domains = $mydomain",
            "smtpd_recipient_restrictions = permit_mynetworks reject_unauth_destination",
            "smtpd_helo_required = yes",
            "disable_vrfy_command = yes",
            "message_size_limit = 10485760",
            "smtpd_recipient_limit = 3",
            "");

    static final String OUTSIDE = "127.0.0.2";
    static final String INSIDE = "127.0.0.1";

    static final List<String> EHLO_REPLY = List.of(
            "250-relay.univ.es",
            "250-PIPELINING",
            "250-SIZE 10485760",
            "250-ETRN",
            "250-ENHANCEDSTATUSCODES",
            "250-8BITMIME",
            "250-DSN",
            "250-SMTPUTF8",
            "250 CHUNKING");

    static String masterCf(int port) {
        return "127.0.0.1:" + port + " inet n - n - - smtpd\n";
    }

    @TempDir
    Path tmp;

    /** The port of the server under test (127.0.0.1). */
    abstract int port();

    // ---- EHLO, HELO ------------------------------------------------------------------------------------------

    @Test
    void ehloCapabilitiesWithSwaks() throws Exception {
        Swaks.Transcript t = Swaks.run(port(), "--local-interface", OUTSIDE, "--quit-after", "EHLO", "--ehlo", "client.example");
        List<String> expected = new ArrayList<>();
        expected.add("220 relay.univ.es ESMTP");
        expected.addAll(EHLO_REPLY);
        expected.add("221 2.0.0 Bye");
        assertEquals(expected, t.serverLines(), t.result().output());
    }

    @Test
    void ehloCapabilitiesWithSmtplib() throws Exception {
        List<String> out = PySmtplib.run(port(), String.join("\n",
                "s = connect('" + OUTSIDE + "')",
                "show(*s.ehlo('client.example'))",
                "print(sorted(s.esmtp_features.items()))",
                "show(*s.helo('again.example'))",
                "show(*s.docmd('QUIT'))"));
        assertEquals(List.of(
                "250 relay.univ.es|PIPELINING|SIZE 10485760|ETRN|ENHANCEDSTATUSCODES|8BITMIME|DSN|SMTPUTF8|CHUNKING",
                "[('8bitmime', ''), ('chunking', ''), ('dsn', ''), ('enhancedstatuscodes', ''), ('etrn', ''), "
                        + "('pipelining', ''), ('size', '10485760'), ('smtputf8', '')]",
                "250 relay.univ.es",
                "221 2.0.0 Bye"), out);
    }

    @Test
    void heloIsRequiredBeforeMail() throws Exception {
        List<String> out = PySmtplib.run(port(), String.join("\n",
                "s = connect('" + OUTSIDE + "')",
                "show(*s.docmd('MAIL', 'FROM:<a@b.example>'))",
                "show(*s.helo('client.example'))",
                "show(*s.docmd('MAIL', 'FROM:<a@b.example>'))",
                "show(*s.docmd('QUIT'))"));
        assertEquals(List.of(
                "503 5.5.1 Error: send HELO/EHLO first",
                "250 relay.univ.es",
                "250 2.1.0 Ok",
                "221 2.0.0 Bye"), out);
    }

    @Test
    void heloAndEhloNeedAHostname() throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(), OUTSIDE)) {
            assertEquals(List.of("220 relay.univ.es ESMTP"), c.reply());
            assertEquals(List.of("501 Syntax: HELO hostname"), c.command("HELO"));
            assertEquals(List.of("501 Syntax: EHLO hostname"), c.command("EHLO"));
            assertEquals(List.of("221 2.0.0 Bye"), c.command("QUIT"));
        }
    }

    // ---- VRFY ------------------------------------------------------------------------------------------------

    @Test
    void vrfyIsDisabled() throws Exception {
        List<String> out = PySmtplib.run(port(), String.join("\n",
                "s = connect('" + OUTSIDE + "')",
                "s.ehlo('client.example')",
                "show(*s.verify('root'))",
                "show(*s.docmd('VRFY'))",
                "show(*s.docmd('QUIT'))"));
        assertEquals(List.of(
                "502 5.5.1 VRFY command is disabled",
                "502 5.5.1 VRFY command is disabled",
                "221 2.0.0 Bye"), out);
    }

    // ---- limits ----------------------------------------------------------------------------------------------

    @Test
    void declaredSizeOverTheLimitIsRefused() throws Exception {
        List<String> out = PySmtplib.run(port(), String.join("\n",
                "s = connect('" + OUTSIDE + "')",
                "s.ehlo('client.example')",
                "show(*s.mail('a@b.example', ['SIZE=10485761']))",
                "show(*s.mail('a@b.example', ['SIZE=10485760']))",
                "show(*s.docmd('QUIT'))"));
        assertEquals(List.of(
                "552 5.3.4 Message size exceeds fixed limit",
                "250 2.1.0 Ok",
                "221 2.0.0 Bye"), out);
    }

    /** The limit is enforced on the bytes received, too, whatever SIZE said (here: nothing). */
    @Test
    void contentOverTheLimitIsRefusedAtTheEndOfData() throws Exception {
        Path data = tmp.resolve("big.eml");
        StringBuilder body = new StringBuilder("Subject: big\r\n\r\n");
        String line = "x".repeat(998) + "\r\n";
        while (body.length() <= 10485760 + 1000) {
            body.append(line);
        }
        Files.writeString(data, body);
        Swaks.Transcript t = Swaks.run(port(), "--local-interface", OUTSIDE, "--ehlo", "client.example",
                "--from", "a@b.example", "--to", "a@univ.es", "--data", "@" + data, "--suppress-data");
        String r = t.result().output();
        assertEquals(List.of("220 relay.univ.es ESMTP"), t.serverLines().subList(0, 1), r);
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                "552 5.3.4 Error: message file too big", "221 2.0.0 Bye"),
                t.serverLines().subList(t.serverLines().size() - 5, t.serverLines().size()), r);
    }

    @Test
    void recipientLimit() throws Exception {
        List<String> out = PySmtplib.run(port(), String.join("\n",
                "s = connect('" + OUTSIDE + "')",
                "s.ehlo('client.example')",
                "show(*s.mail('a@b.example'))",
                "for r in ['a@univ.es', 'b@univ.es', 'c@univ.es', 'd@univ.es', 'e@univ.es']:",
                "    show(*s.rcpt(r))",
                "show(*s.docmd('QUIT'))"));
        assertEquals(List.of(
                "250 2.1.0 Ok",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "452 4.5.3 Error: too many recipients",
                "452 4.5.3 Error: too many recipients",
                "221 2.0.0 Bye"), out);
    }

    // ---- syntax, unknown commands ----------------------------------------------------------------------------

    @Test
    void badSyntax() throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(), OUTSIDE)) {
            c.reply();
            c.command("EHLO client.example");
            assertEquals(List.of("500 5.5.2 Error: bad syntax"), c.command(""));
            assertEquals(List.of("500 5.5.2 Error: bad syntax"), c.command("   "));
            assertEquals(List.of("501 5.5.4 Syntax: RSET"), c.command("RSET x"));
            assertEquals(List.of("250 2.1.0 Ok"), c.command("MAIL FROM:<a@b.example>"));
            assertEquals(List.of("501 5.5.4 Syntax: RCPT TO:<address>"), c.command("RCPT TO:"));
            assertEquals(List.of("501 5.5.4 Syntax: RCPT TO:<address>"), c.command("RCPT FROM:<x@y.example>"));
            assertEquals(List.of("555 5.5.4 Unsupported option: BOGUS=1"), c.command("RCPT TO:<a@univ.es> BOGUS=1"));
            assertEquals(List.of("250 2.1.5 Ok"), c.command("RCPT TO:<a@univ.es> NOTIFY=SUCCESS"));
            assertEquals(List.of("221 2.0.0 Bye"), c.command("QUIT"));
        }
    }

    @Test
    void unknownCommand() throws Exception {
        List<String> out = PySmtplib.run(port(), String.join("\n",
                "s = connect('" + OUTSIDE + "')",
                "s.ehlo('client.example')",
                "show(*s.docmd('FOO', 'bar'))",
                "show(*s.docmd('XYZZY'))",
                "show(*s.noop())",
                "show(*s.docmd('QUIT'))"));
        assertEquals(List.of(
                "500 5.5.2 Error: command not recognized",
                "500 5.5.2 Error: command not recognized",
                "250 2.0.0 Ok",
                "221 2.0.0 Bye"), out);
    }

    // ---- RSET and the order of commands ----------------------------------------------------------------------

    @Test
    void rsetEndsTheTransaction() throws Exception {
        List<String> out = PySmtplib.run(port(), String.join("\n",
                "s = connect('" + OUTSIDE + "')",
                "s.ehlo('client.example')",
                "show(*s.mail('a@b.example'))",
                "show(*s.rcpt('a@univ.es'))",
                "show(*s.rset())",
                "show(*s.docmd('DATA'))",
                "show(*s.rcpt('a@univ.es'))",
                "show(*s.mail('a@b.example'))",
                "show(*s.docmd('QUIT'))"));
        assertEquals(List.of(
                "250 2.1.0 Ok",
                "250 2.1.5 Ok",
                "250 2.0.0 Ok",
                "503 5.5.1 Error: need RCPT command",
                "503 5.5.1 Error: need MAIL command",
                "250 2.1.0 Ok",
                "221 2.0.0 Bye"), out);
    }

    @Test
    void commandsOutOfOrder() throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(), OUTSIDE)) {
            c.reply();
            c.command("EHLO client.example");
            assertEquals(List.of("503 5.5.1 Error: need MAIL command"), c.command("RCPT TO:<a@univ.es>"));
            assertEquals(List.of("503 5.5.1 Error: need RCPT command"), c.command("DATA"));
            assertEquals(List.of("503 5.5.1 Error: need RCPT command"), c.command("BDAT 0 LAST"));
            assertEquals(List.of("250 2.1.0 Ok"), c.command("MAIL FROM:<a@b.example>"));
            assertEquals(List.of("503 5.5.1 Error: nested MAIL command"), c.command("MAIL FROM:<c@d.example>"));
            assertEquals(List.of("554 5.5.1 Error: no valid recipients"), c.command("DATA"));
            assertEquals(List.of("221 2.0.0 Bye"), c.command("QUIT"));
        }
    }

    /**
     * RFC 2920 pipelining from a raw socket, in one write: the replies come in order, a refused recipient does not
     * stop the others, DATA goes on with the valid ones, and the message is queued.
     */
    @Test
    void pipelinedTransaction() throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(), OUTSIDE)) {
            c.reply();
            c.command("EHLO client.example");
            c.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<a@univ.es>\r\nRCPT TO:<x@foreign.example>\r\n"
                    + "RCPT TO:<b@depart1.univ.es>\r\nDATA\r\n");
            assertEquals(List.of(
                    "250 2.1.0 Ok",
                    "250 2.1.5 Ok",
                    "454 4.7.1 <x@foreign.example>: Relay access denied",
                    "250 2.1.5 Ok",
                    "354 End data with <CR><LF>.<CR><LF>"), c.replies(5));
            c.send("Subject: pipelined\r\n\r\n..a stuffed dot\r\n.\r\nQUIT\r\n");
            assertEquals(List.of("250 2.0.0 Ok: queued as QUEUEID", "221 2.0.0 Bye"), normalize(c.replies(2)));
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private static final Pattern QUEUED = Pattern.compile("^(250 2\\.0\\.0 Ok: queued as )\\S+$");

    /** Replaces the queue ID (random on both servers) with {@code QUEUEID}; nothing else is touched. */
    static List<String> normalize(List<String> replies) {
        return replies.stream().map(r -> QUEUED.matcher(r).replaceFirst("$1QUEUEID")).toList();
    }

    static void assertStartsWith(String prefix, String actual) {
        assertTrue(actual != null && actual.startsWith(prefix), "expected " + prefix + "... but got " + actual);
    }
}
