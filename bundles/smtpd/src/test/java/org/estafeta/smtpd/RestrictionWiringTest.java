package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.estafeta.api.message.Reply;
import org.estafeta.cleanup.Submission;
import org.estafeta.dns.Outcome;
import org.estafeta.restrictions.Decision;
import org.estafeta.restrictions.RestrictionEngine;
import org.estafeta.restrictions.SessionFacts;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How smtpd drives the restriction engine and DNS (both faked here with their real interfaces). */
class RestrictionWiringTest {
    private static final String C = RestrictionEngine.CLIENT;
    private static final String H = RestrictionEngine.HELO;
    private static final String S = RestrictionEngine.SENDER;
    private static final String R = RestrictionEngine.RECIPIENT;

    private final Harness h = new Harness();
    private final Harness.FakeEngine engine = new Harness.FakeEngine();
    private final FakeCleanup cleanup = new FakeCleanup();

    @AfterEach
    void close() {
        h.close();
    }

    private void open(String... params) {
        h.engine = engine;
        h.cleanup = cleanup;
        h.open(params);
    }

    @Test
    void withDelayRejectEveryListRunsAtRcptInOrder() {
        open();
        assertEquals("220 mx.example.org ESMTP Estafeta\r\n", h.output());
        h.ask("EHLO c.example\r\n");
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
        assertTrue(engine.calls.isEmpty(), "nothing is evaluated before RCPT: " + engine.listsCalled());
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
        assertEquals(List.of(C + "@RCPT", H + "@RCPT", S + "@RCPT", R + "@RCPT"), engine.listsCalled());
        SessionFacts f = engine.calls.get(3).facts();
        assertEquals("192.0.2.10", f.clientAddress());
        assertEquals(40001, f.clientPort());
        assertEquals(Optional.of("c.example"), f.helo());
        assertEquals(Optional.of("a@example.org"), f.sender());
        assertEquals(Optional.of("b@example.net"), f.recipient());
        assertEquals(0, f.recipientCount());
        assertEquals("ESMTP", f.protocol());
        assertEquals("unknown", f.clientName(), "without DNS the client is unknown");
        assertEquals(Outcome.NOT_FOUND, f.clientNameStatus());
        h.ask("RCPT TO:<c@example.net>\r\n");
        assertEquals(1, engine.calls.get(7).facts().recipientCount());
        assertEquals("354 End data with <CR><LF>.<CR><LF>\r\n", h.ask("DATA\r\n"));
        assertEquals(RestrictionEngine.DATA + "@DATA", engine.listsCalled().get(8));
        TransactionTest.Matcher.queued(h.ask("hi\r\n.\r\n"));
        assertEquals(RestrictionEngine.END_OF_DATA + "@END-OF-MESSAGE", engine.listsCalled().get(9));
    }

    @Test
    void deferIfPermitIsPassedFromStageToStage() {
        Reply dip = Reply.tempfail(450, "4.7.1", "Client host rejected: cannot find your hostname");
        engine.on(C, f -> new Decision(Decision.Kind.DUNNO, Optional.empty(), f.actions(), Optional.of(dip), List.of()));
        open();
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        assertEquals(Optional.of(dip), engine.calls.get(1).facts().deferIfPermit());
    }

    @Test
    void aRejectAtRcptIsAnsweredAndLoggedAsTheEngineWordsIt() {
        engine.on(R, f -> Harness.FakeEngine.reject(f, R, 554, "5.7.1", "<" + f.recipient().orElseThrow() + ">: Relay access denied"));
        open();
        h.output();
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        assertEquals("554 5.7.1 <b@example.net>: Relay access denied\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
        assertTrue(h.log.lines.contains("info: NOQUEUE: reject: RCPT from unknown[192.0.2.10]: 554 5.7.1 <b@example.net>: "
                + "Relay access denied; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<c.example>"),
                h.log.lines.toString());
        assertEquals("554 5.5.1 Error: no valid recipients\r\n", h.ask("DATA\r\n"));
    }

    @Test
    void aClientRejectWithDelayRejectStopsTheOtherListsAtRcpt() {
        engine.on(C, f -> Harness.FakeEngine.reject(f, C, 554, "5.7.1", "<unknown[192.0.2.10]>: Client host rejected: Access denied"));
        open();
        h.output();
        h.ask("HELO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        assertEquals("554 5.7.1 <unknown[192.0.2.10]>: Client host rejected: Access denied\r\n",
                h.ask("RCPT TO:<b@example.net>\r\n"));
        assertEquals(List.of(C + "@RCPT"), engine.listsCalled());
    }

    @Test
    void withoutDelayRejectEachListRunsAtItsOwnCommand() {
        open("smtpd_delay_reject", "no");
        assertEquals("220 mx.example.org ESMTP Estafeta\r\n", h.output());
        assertEquals(List.of(C + "@CONNECT"), engine.listsCalled());
        h.ask("EHLO c.example\r\n");
        assertEquals(H + "@EHLO", engine.listsCalled().get(1));
        h.ask("MAIL FROM:<a@example.org>\r\n");
        assertEquals(S + "@MAIL", engine.listsCalled().get(2));
        assertEquals(Optional.of("a@example.org"), engine.calls.get(2).facts().sender());
        h.ask("RCPT TO:<b@example.net>\r\n");
        assertEquals(List.of(C + "@CONNECT", H + "@EHLO", S + "@MAIL", R + "@RCPT"), engine.listsCalled());
    }

    @Test
    void withoutDelayRejectAClientRejectReplacesTheGreetingAndDeniesEverythingButQuit() {
        engine.on(C, f -> Harness.FakeEngine.reject(f, C, 554, "5.7.1", "<unknown[192.0.2.10]>: Client host rejected: Access denied"));
        open("smtpd_delay_reject", "no");
        assertEquals("554 5.7.1 <unknown[192.0.2.10]>: Client host rejected: Access denied\r\n", h.output());
        assertEquals("503 5.7.0 Error: access denied for unknown[192.0.2.10]\r\n", h.ask("EHLO c.example\r\n"));
        assertEquals("503 5.7.0 Error: access denied for unknown[192.0.2.10]\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
        assertEquals("221 2.0.0 Bye\r\n", h.ask("QUIT\r\n"));
    }

    @Test
    void withoutDelayRejectASenderRejectIsAnsweredAtMail() {
        engine.on(S, f -> Harness.FakeEngine.reject(f, S, 553, "5.7.1", "<a@example.org>: Sender address rejected: Access denied"));
        open("smtpd_delay_reject", "no");
        h.output();
        h.ask("EHLO c.example\r\n");
        assertEquals("553 5.7.1 <a@example.org>: Sender address rejected: Access denied\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
        assertEquals("503 5.5.1 Error: need MAIL command\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
    }

    @Test
    void dataAndEndOfDataRejectsAreAnswered() {
        engine.on(RestrictionEngine.END_OF_DATA, f -> Harness.FakeEngine.reject(f, RestrictionEngine.END_OF_DATA, 550,
                "5.7.1", "Message rejected"));
        open();
        h.output();
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        h.ask("DATA\r\n");
        assertEquals("550 5.7.1 Message rejected\r\n", h.ask("hi\r\n.\r\n"));
        assertEquals(FakeCleanup.State.ABORTED, cleanup.single().state());
        engine.on(RestrictionEngine.DATA, f -> Harness.FakeEngine.reject(f, RestrictionEngine.DATA, 554, "5.5.1",
                "Error: no valid recipients"));
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        assertEquals("554 5.5.1 Error: no valid recipients\r\n", h.ask("DATA\r\n"));
        assertEquals(1, cleanup.messages().size(), "no Cleanup stream for a refused DATA");
    }

    @Test
    void actionsDecidedByRestrictionsTravelWithTheMessage() {
        Submission.Actions hold = new Submission.Actions(Optional.of("held by test"), Optional.empty(), Optional.empty(),
                Optional.empty(), List.of());
        engine.on(R, f -> new Decision(Decision.Kind.DUNNO, Optional.empty(), hold, Optional.empty(), List.of()));
        open();
        h.output();
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        h.ask("DATA\r\n");
        TransactionTest.Matcher.queued(h.ask("hi\r\n.\r\n"));
        assertEquals(hold, cleanup.single().envelope().actions());
    }

    @Test
    void contentFilterOfTheServiceIsRecordedUnlessAnAccessFilterChoseOne() {
        engine.on(R, f -> new Decision(Decision.Kind.DUNNO, Optional.empty(), f.actions(), Optional.empty(), List.of()));
        open("content_filter", "scan:[127.0.0.1]:10025");
        h.output();
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        h.ask("DATA\r\n");
        TransactionTest.Matcher.queued(h.ask("hi\r\n.\r\n"));
        assertEquals(Optional.of("scan:[127.0.0.1]:10025"), cleanup.single().envelope().actions().filter());

        Submission.Actions access = new Submission.Actions(Optional.empty(), Optional.empty(),
                Optional.of("other:[127.0.0.1]:10026"), Optional.empty(), List.of());
        engine.on(R, f -> new Decision(Decision.Kind.DUNNO, Optional.empty(), access, Optional.empty(), List.of()));
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        h.ask("DATA\r\n");
        TransactionTest.Matcher.queued(h.ask("hi\r\n.\r\n"));
        assertEquals(Optional.of("other:[127.0.0.1]:10026"), cleanup.messages().get(1).envelope().actions().filter(),
                "an access FILTER action wins over content_filter, as in Postfix");
    }

    @Test
    void engineAbsentIs451ExceptForMynetworks() {
        h.cleanup = cleanup;
        h.open();
        h.output();
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        assertEquals("451 4.3.5 Server configuration error\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
        assertTrue(h.log.lines.contains("info: NOQUEUE: reject: RCPT from unknown[192.0.2.10]: 451 4.3.5 Server "
                + "configuration error; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<c.example>"),
                h.log.lines.toString());
    }

    @Test
    void anEngineThatThrowsIs451NeverAnOpenRelay() {
        h.engine = new Harness.FakeEngine() {
            @Override
            public java.util.concurrent.CompletionStage<Decision> evaluate(String list, SessionFacts facts,
                    org.estafeta.config.ConfigSnapshot snapshot) {
                throw new IllegalStateException("broken");
            }
        };
        h.open();
        h.output();
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        assertEquals("451 4.3.5 Server configuration error\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
    }

    @Test
    void slowEngineHoldsTheReplyAndLaterCommands() {
        engine.async = true;
        open();
        h.output();
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.sendRaw("RCPT TO:<b@example.net>\r\n");
        h.pump();
        assertEquals("", h.output());
        for (int i = 0; i < 4; i++) {
            engine.completeAll();
            h.pump();
        }
        assertEquals("250 2.1.5 Ok\r\n", h.output());
    }

    @Test
    void dnsNamesTheClientWhenPresent() {
        Harness.FakeDns dns = new Harness.FakeDns().verified("192.0.2.10", "mail.example.com");
        h.dns = dns;
        open();
        assertTrue(h.log.lines.contains("info: connect from mail.example.com[192.0.2.10]"), h.log.lines.toString());
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        SessionFacts f = engine.calls.get(0).facts();
        assertEquals("mail.example.com", f.clientName());
        assertEquals(Outcome.FOUND, f.clientNameStatus());
    }

    @Test
    void withoutPeernameLookupEveryClientIsUnknown() {
        h.dns = new Harness.FakeDns().verified("192.0.2.10", "mail.example.com");
        open("smtpd_peername_lookup", "no");
        assertTrue(h.log.lines.contains("info: connect from unknown[192.0.2.10]"), h.log.lines.toString());
    }

    @Test
    void aReverseNameThatDoesNotResolveBackIsUnknownButKeptAsReverseName() {
        h.dns = new Harness.FakeDns().reverseOnly("192.0.2.10", "spoofed.example.com");
        open();
        assertTrue(h.log.lines.contains("info: connect from unknown[192.0.2.10]"), h.log.lines.toString());
        h.ask("EHLO c.example\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        h.ask("RCPT TO:<b@example.net>\r\n");
        SessionFacts f = engine.calls.get(0).facts();
        assertEquals("unknown", f.clientName());
        assertEquals("spoofed.example.com", f.reverseClientName());
    }

    @Test
    void aFailedDnsLookupLeavesTheClientUnknown() {
        h.dns = new Harness.FakeDns() {
            @Override
            public java.util.concurrent.CompletionStage<org.estafeta.dns.ClientName> clientName(java.net.InetAddress a) {
                return java.util.concurrent.CompletableFuture.failedFuture(new RuntimeException("resolver down"));
            }
        };
        open();
        assertEquals("220 mx.example.org ESMTP Estafeta\r\n", h.output());
        assertFalse(h.log.lines.isEmpty());
        assertEquals("info: connect from unknown[192.0.2.10]", h.log.lines.get(0));
    }
}
