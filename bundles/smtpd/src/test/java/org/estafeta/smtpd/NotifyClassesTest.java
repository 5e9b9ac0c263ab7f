package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.estafeta.testing.cleanup.FakeCleanup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** notify_classes: the session transcript to the postmaster, as Postfix's smtpd_chat_notify() sends it. */
class NotifyClassesTest {
    private final Harness h = new Harness();
    private final FakeCleanup cleanup = new FakeCleanup();

    @AfterEach
    void close() {
        h.close();
    }

    private void open(String... params) {
        h.clientIp = "127.0.0.1";
        h.cleanup = cleanup;
        h.saslServers.put("cyrus", new SaslAuthTest.ScriptedServer());
        h.open(params);
        h.output();
    }

    @Test
    void protocolErrorsReachThePostmasterWithTheDialogueButNoCredentials() {
        open("notify_classes", "resource, software, policy, protocol", "mail_name", "Postfix",
                "smtpd_sasl_auth_enable", "yes");
        h.ask("EHLO client.example\r\n");
        String secret = Base64.getEncoder().encodeToString("\0juan\0not-the-password".getBytes(StandardCharsets.UTF_8));
        assertTrue(h.ask("AUTH PLAIN " + secret + "\r\n").startsWith("535 "));
        assertEquals("334 \r\n", h.ask("AUTH PLAIN\r\n"));
        assertTrue(h.ask(secret + "\r\n").startsWith("535 "));
        assertEquals("500 5.5.2 Error: command not recognized\r\n",
                h.ask("FROBNICATE\r\n"));
        h.ask("QUIT\r\n");
        h.channel.close();
        h.pump();
        FakeCleanup.Message notice = cleanup.single();
        assertEquals("double-bounce@mx.example.org", notice.envelope().sender());
        assertEquals("postmaster", notice.envelope().recipients().get(0).address());
        String text = notice.text();
        assertTrue(text.startsWith("From: Mail Delivery System <MAILER-DAEMON>\r\nTo: Postmaster <postmaster>\r\n"
                + "Subject: Postfix SMTP server: errors from unknown[127.0.0.1]\r\n\r\nTranscript of session follows.\r\n\r\n"
                + "Out: 220 mx.example.org ESMTP"), text);
        assertTrue(text.contains("In:  EHLO client.example\r\n"), text);
        assertTrue(text.contains("In:  AUTH PLAIN (initial response not shown)\r\n"), text);
        assertTrue(text.contains("In:  (AUTH response not shown)\r\n"), text);
        assertTrue(text.contains("In:  FROBNICATE\r\nOut: 500 5.5.2 Error: command not recognized\r\n"), text);
        assertTrue(text.endsWith("For other details, see the local mail logfile\r\n"), text);
        assertFalse(text.contains(secret) || text.contains("not-the-password"), text);
    }

    @Test
    void theDefaultClassesIgnoreProtocolErrors() {
        open();
        h.ask("EHLO client.example\r\n");
        h.ask("FROBNICATE\r\n");
        h.ask("QUIT\r\n");
        h.channel.close();
        h.pump();
        assertTrue(cleanup.messages().isEmpty());
    }

    @Test
    void repliesAreClassedAsPostfixsCallSitesClassThem() {
        assertEquals(SessionTranscript.ErrorClass.PROTOCOL, SessionTranscript.classify("501 5.5.4 Syntax: MAIL FROM:<address>"));
        assertEquals(SessionTranscript.ErrorClass.PROTOCOL, SessionTranscript.classify("503 Error: send HELO/EHLO first"));
        assertEquals(SessionTranscript.ErrorClass.POLICY, SessionTranscript.classify("554 5.7.1 <x@y>: Relay access denied"));
        assertEquals(SessionTranscript.ErrorClass.POLICY, SessionTranscript.classify("550 5.1.1 <u@x>: Recipient address rejected: User unknown"));
        assertEquals(SessionTranscript.ErrorClass.RESOURCE, SessionTranscript.classify("452 4.3.1 Insufficient system storage"));
        assertEquals(SessionTranscript.ErrorClass.SOFTWARE, SessionTranscript.classify("451 4.3.5 Server configuration error"));
        assertEquals(SessionTranscript.ErrorClass.BOUNCE, SessionTranscript.classify("552 5.3.4 Message size exceeds fixed limit"));
        assertNull(SessionTranscript.classify("250 2.0.0 Ok"));
        assertNull(SessionTranscript.classify("421 4.4.2 mx Error: timeout exceeded"));
    }
}
