package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.estafeta.testing.cleanup.FakeCleanup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each command and parameter with Postfix's exact replies (smtpd.c). */
class CommandRepliesTest {
    private final Harness h = new Harness();

    @AfterEach
    void close() {
        h.close();
    }

    /** A client in mynetworks (127.0.0.1), so that recipients are accepted without a restriction engine. */
    private Harness open(String... params) {
        h.clientIp = "127.0.0.1";
        h.cleanup = new FakeCleanup();
        h.open(params);
        h.output();
        return h;
    }

    @Test
    void mailSyntaxErrors() {
        open("smtpd_soft_error_limit", "100", "smtpd_hard_error_limit", "100");
        h.ask("EHLO c.example\r\n");
        assertEquals("501 5.5.4 Syntax: MAIL FROM:<address>\r\n", h.ask("MAIL\r\n"));
        assertEquals("501 5.5.4 Syntax: MAIL FROM:<address>\r\n", h.ask("MAIL TO:<a@example.org>\r\n"));
        assertEquals("501 5.5.4 Syntax: MAIL FROM:<address>\r\n", h.ask("MAIL FROM:\r\n"));
        assertEquals("501 5.1.7 Bad sender address syntax\r\n", h.ask("MAIL FROM:<a@example.org\r\n"));
        assertEquals("501 5.1.7 Bad sender address syntax\r\n", h.ask("MAIL FROM:<a@b>,<c@d>\r\n"));
        assertEquals("501 5.5.4 Bad message size syntax\r\n", h.ask("MAIL FROM:<a@example.org> SIZE=12k\r\n"));
        assertEquals("501 5.5.4 Bad message size syntax\r\n", h.ask("MAIL FROM:<a@example.org> SIZE=\r\n"));
        assertEquals("552 5.3.4 Message size exceeds file system imposed limit\r\n",
                h.ask("MAIL FROM:<a@example.org> SIZE=99999999999999999999999\r\n"));
        assertEquals("501 5.5.4 Bad RET parameter syntax\r\n", h.ask("MAIL FROM:<a@example.org> RET=ALL\r\n"));
        assertEquals("501 5.5.4 Bad RET parameter syntax\r\n", h.ask("MAIL FROM:<a@example.org> RET=FULL RET=HDRS\r\n"));
        assertEquals("501 5.5.4 Bad ENVID parameter syntax\r\n", h.ask("MAIL FROM:<a@example.org> ENVID=a+zz\r\n"));
        assertEquals("501 5.5.4 Bad ENVID parameter syntax\r\n", h.ask("MAIL FROM:<a@example.org> ENVID=a ENVID=b\r\n"));
        assertEquals("555 5.5.4 Unsupported option: FOO=bar\r\n", h.ask("MAIL FROM:<a@example.org> FOO=bar\r\n"));
        assertEquals("555 5.5.4 Unsupported option: BODY=BINARYMIME\r\n",
                h.ask("MAIL FROM:<a@example.org> BODY=BINARYMIME\r\n"));
        assertEquals("503 5.5.4 Error: authentication disabled\r\n", h.ask("MAIL FROM:<a@example.org> AUTH=<>\r\n"));
        // The null sender, and the parameters' names case-insensitively.
        assertEquals("250 2.1.0 Ok\r\n", h.ask("mail from:<> size=10 body=7bit ret=full envid=x\r\n"));
    }

    @Test
    void rcptSyntaxErrors() {
        open("smtpd_soft_error_limit", "100", "smtpd_hard_error_limit", "100");
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        assertEquals("501 5.5.4 Syntax: RCPT TO:<address>\r\n", h.ask("RCPT\r\n"));
        assertEquals("501 5.5.4 Syntax: RCPT TO:<address>\r\n", h.ask("RCPT FROM:<b@example.net>\r\n"));
        assertEquals("501 5.1.3 Bad recipient address syntax\r\n", h.ask("RCPT TO:<>\r\n"));
        assertEquals("501 5.1.3 Bad recipient address syntax\r\n", h.ask("RCPT TO:<b@example.net\r\n"));
        assertEquals("501 5.5.4 Error: Bad NOTIFY parameter syntax\r\n", h.ask("RCPT TO:<b@example.net> NOTIFY=NEVER,SUCCESS\r\n"));
        assertEquals("501 5.5.4 Error: Bad NOTIFY parameter syntax\r\n", h.ask("RCPT TO:<b@example.net> NOTIFY=SOMETIMES\r\n"));
        assertEquals("501 5.5.4 Error: Bad ORCPT parameter syntax\r\n", h.ask("RCPT TO:<b@example.net> ORCPT=b@example.net\r\n"));
        assertEquals("501 5.5.4 Error: Bad ORCPT parameter syntax\r\n", h.ask("RCPT TO:<b@example.net> ORCPT=;b@example.net\r\n"));
        assertEquals("555 5.5.4 Unsupported option: FOO\r\n", h.ask("RCPT TO:<b@example.net> FOO\r\n"));
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<b@example.net> NOTIFY=NEVER ORCPT=rfc822;b@example.net\r\n"));
        assertEquals("501 5.5.4 Syntax: DATA\r\n", h.ask("DATA now\r\n"));
    }

    @Test
    void heloRequired() {
        open("smtpd_helo_required", "yes");
        assertEquals("503 5.5.1 Error: send HELO/EHLO first\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
        assertEquals("503 Error: send HELO/EHLO first\r\n", h.ask("ETRN example.org\r\n"));
        h.ask("HELO c.example\r\n");
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
    }

    @Test
    void vrfy() {
        open();
        assertEquals("501 5.5.4 Syntax: VRFY address [SMTPUTF8]\r\n", h.ask("VRFY\r\n"));
        assertEquals("252 2.0.0 <postmaster@example.org>\r\n", h.ask("VRFY <postmaster@example.org>\r\n"));
        assertEquals("252 2.0.0 postmaster\r\n", h.ask("VRFY postmaster\r\n"));
        // RFC 6531: a trailing SMTPUTF8 is a flag, not part of the address.
        assertEquals("252 2.0.0 j\u00f6rg@example.org\r\n", h.ask(utf8("VRFY j\u00f6rg@example.org SMTPUTF8\r\n")));
        assertEquals("501 5.1.3 Bad recipient address syntax\r\n", h.ask("VRFY <>\r\n"));
    }

    @Test
    void vrfyOutsideMynetworksWithoutEngineIsAServerConfigurationError() {
        h.open();
        h.output();
        assertEquals("451 4.3.5 Server configuration error\r\n", h.ask("VRFY postmaster\r\n"));
    }

    private static String utf8(String s) {
        return new String(s.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @Test
    void disableVrfyCommand() {
        open("disable_vrfy_command", "yes");
        assertEquals("502 5.5.1 VRFY command is disabled\r\n", h.ask("VRFY postmaster\r\n"));
        assertFalse(h.ask("EHLO c.example\r\n").contains("VRFY"));
    }

    @Test
    void etrn() {
        open();
        assertEquals("500 Syntax: ETRN domain\r\n", h.ask("ETRN\r\n"));
        assertEquals("500 Syntax: ETRN domain\r\n", h.ask("ETRN a b\r\n"));
        assertEquals("501 Error: invalid parameter syntax\r\n", h.ask("ETRN bad_domain!\r\n"));
        h.ask("HELO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        assertEquals("503 Error: MAIL transaction in progress\r\n", h.ask("ETRN example.org\r\n"));
    }

    @Test
    void etrnAsksTheQueueManagerToFlushOr458WithoutOne() {
        open();
        h.ask("EHLO c.example\r\n");
        assertEquals("458 Unable to queue messages\r\n", h.ask("ETRN example.org\r\n"));
        java.util.concurrent.atomic.AtomicInteger flushes = new java.util.concurrent.atomic.AtomicInteger();
        h.queueFlush = new org.estafeta.queue.QueueFlush() {
            @Override
            public boolean flushAll() {
                flushes.incrementAndGet();
                return true;
            }

            @Override
            public boolean flush(String queueId) {
                return true;
            }
        };
        assertEquals("250 Queuing started\r\n", h.ask("ETRN @example.org\r\n"));
        assertEquals(1, flushes.get());
    }

    @Test
    void recipientLimitAnswers452AndCountsOvershootAsErrors() {
        open("smtpd_recipient_limit", "2", "smtpd_recipient_overshoot_limit", "1");
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<1@example.net>\r\n"));
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<2@example.net>\r\n"));
        int errors = h.session().errorCount();
        assertEquals("452 4.5.3 Error: too many recipients\r\n", h.ask("RCPT TO:<3@example.net>\r\n"));
        assertEquals(errors, h.session().errorCount(), "within the overshoot limit: not an error");
        assertEquals("452 4.5.3 Error: too many recipients\r\n", h.ask("RCPT TO:<4@example.net>\r\n"));
        assertEquals(errors + 1, h.session().errorCount(), "beyond the overshoot limit: an error");
        h.ask("DATA\r\n");
        h.ask("x\r\n.\r\n");
        assertEquals(2, ((FakeCleanup) h.cleanup).single().envelope().recipients().size());
    }

    @Test
    void rsetMidTransactionForgetsEnvelopeButKeepsHelo() {
        open();
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        assertEquals("250 2.0.0 Ok\r\n", h.ask("RSET\r\n"));
        assertEquals("503 5.5.1 Error: need RCPT command\r\n", h.ask("DATA\r\n"));
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<c@example.org>\r\n"));
        assertEquals("c.example", h.session().heloName());
    }

    @Test
    void noopAndQuit() {
        open();
        assertEquals("250 2.0.0 Ok\r\n", h.ask("NOOP\r\n"));
        assertEquals("501 5.5.4 Syntax: NOOP\r\n", h.ask("NOOP now\r\n"));
        assertEquals("221 2.0.0 Bye\r\n", h.ask("QUIT\r\n"));
        assertFalse(h.channel.isOpen());
        assertTrue(h.log.lines.get(h.log.lines.size() - 1).endsWith(" noop=1/2 quit=1 commands=2/3"), h.log.lines.toString());
    }

    @Test
    void starttlsAuthXclientAreAnsweredAsPostfixWithoutThem() {
        open();
        assertEquals("502 5.5.1 Error: command not implemented\r\n", h.ask("STARTTLS\r\n"));
        assertEquals("503 5.5.1 Error: authentication not enabled\r\n", h.ask("AUTH PLAIN\r\n"));
        assertEquals("550 5.7.0 Error: insufficient authorization\r\n", h.ask("XCLIENT NAME=x\r\n"));
    }

    @Test
    void withoutSizeLimitEhloSaysSizeAlone() {
        open("message_size_limit", "0");
        assertTrue(h.ask("EHLO c.example\r\n").contains("250-SIZE\r\n"));
    }
}
