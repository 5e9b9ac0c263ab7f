package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.estafeta.testing.SmtpClient;
import org.junit.jupiter.api.Test;

/**
 * Tutorial sections 7.5 and 7.6: its header_checks and body_checks files verbatim, as {@code regexp:} tables, run
 * against a private real Postfix ({@link ContentChecksPostfixIT}) and the gateway ({@link ContentChecksEstafetaIT})
 * with the same main.cf and the same sessions. The expected replies are Postfix's, so the Estafeta run is a
 * differential test: the reply to the end of DATA must be the same, word for word.
 */
abstract class ContentChecksScenarios {
    static String mainCf(Path headerChecks, Path bodyChecks) {
        return String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = checks.example",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "header_checks = regexp:" + headerChecks,
                "body_checks = regexp:" + bodyChecks,
                "");
    }

    static String tutorialFile(String name) throws IOException {
        try (InputStream in = ContentChecksScenarios.class.getResourceAsStream("/tutorial/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    abstract int port();

    /** The reply to the end of DATA for this message, sent byte for byte (CRLF lines, nothing added). */
    String endOfData(String message) throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(), null)) {
            c.reply();
            c.command("EHLO client.example");
            c.command("MAIL FROM:<sender@client.example>");
            c.command("RCPT TO:<user@elsewhere.example>");
            c.command("DATA");
            c.send(message + ".\r\n");
            List<String> r = c.reply();
            c.command("QUIT");
            return r.get(r.size() - 1);
        }
    }

    @Test
    void aVirusSubjectOfTheTutorialIsRejected() throws Exception {
        assertEquals("550 5.7.1 message content rejected",
                endOfData("Subject: new photos from my party!\r\nFrom: a@client.example\r\n\r\nhello\r\n"));
    }

    /**
     * The tutorial's SirCam rule {@code /^date:.*$/i}: in regexp_table(5) matching is case-insensitive by default
     * and the {@code i} flag <em>toggles</em> it, so the rule is case-sensitive and catches only a lower-case
     * {@code date:} header (as SirCam wrote it), not the usual {@code Date:}.
     */
    @Test
    void theTutorialsDateRuleIsCaseSensitiveBecauseItsFlagTogglesCase() throws Exception {
        assertEquals("250", endOfData("Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nSubject: hi\r\n\r\nhello\r\n")
                .substring(0, 3));
        assertEquals("550 5.7.1 message content rejected",
                endOfData("date: Tue, 24 Nov 2026 10:00:00 +0000\r\nSubject: hi\r\n\r\nhello\r\n"));
    }

    @Test
    void aSpamPhraseInTheBodyIsRejected() throws Exception {
        assertEquals("550 5.7.1 message content rejected",
                endOfData("Subject: offer\r\n\r\nline one\r\nour results are GUARANTEED!\r\n"));
    }

    @Test
    void aSpamPhraseInAHeaderIsNotABodyMatch() throws Exception {
        assertEquals("250", endOfData("Subject: FREE MEMBERSHIP\r\n\r\nclean text\r\n").substring(0, 3));
    }

    @Test
    void aCleanMessageIsQueued() throws Exception {
        assertEquals("250", endOfData("Subject: new photos from my holiday\r\n\r\nhello\r\n").substring(0, 3));
    }
}
