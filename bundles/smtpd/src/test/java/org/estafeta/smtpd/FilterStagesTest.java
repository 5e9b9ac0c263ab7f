package org.estafeta.smtpd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Reply;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.FilterChannel;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The session's content filters as smtpd drives them (docs/content-filters.md): each command the restrictions accepted
 * goes to the filters on the worker pool, and their refusal is answered at that command, as Postfix answers a milter's.
 * The channel here is scripted; cleanup's real chain is tested in the cleanup bundle, and end to end with a real
 * milter in the launcher's MilterStagesIT.
 */
class FilterStagesTest {
    private final Harness h = new Harness();
    private final FakeCleanup queue = new FakeCleanup();
    /** What the filters heard, in order, and on which thread kind. */
    private final List<String> heard = new ArrayList<>();
    /** Event (e.g. {@code rcpt:bad@example.net}) to the refusal the scripted filters answer. */
    private final Map<String, FilterChannel.Refusal> refuse = new java.util.HashMap<>();
    private FilterChannel passedToOpen;
    /** The filters' answer to DATA (cleanup throws it from open), or null. */
    private Reply refuseData;

    private final FilterChannel channel = new FilterChannel() {
        private Optional<Refusal> on(String event) {
            assertTrue(h.workers.running(), "filters are asked on the worker pool: " + event);
            heard.add(event);
            return Optional.ofNullable(refuse.get(event));
        }

        @Override
        public Optional<Refusal> connect(ClientInfo client) {
            return on("connect:" + client.address());
        }

        @Override
        public Optional<Refusal> helo(String name) {
            return on("helo:" + name);
        }

        @Override
        public Optional<Refusal> mail(String sender, Map<String, String> parameters) {
            return on("mail:" + sender + parameters.keySet());
        }

        @Override
        public Optional<Refusal> rcpt(String recipient, Map<String, String> parameters) {
            return on("rcpt:" + recipient + parameters.keySet());
        }

        @Override
        public void reset() {
            heard.add("reset");
        }

        @Override
        public void close() {
            heard.add("close");
        }
    };

    private final Cleanup cleanup = new Cleanup() {
        @Override
        public Stream open(Submission envelope) throws IOException {
            return queue.open(envelope);
        }

        @Override
        public Optional<FilterChannel> filters(ConfigSnapshot service) {
            return Optional.of(channel);
        }

        @Override
        public Stream open(Submission envelope, ConfigSnapshot service, FilterChannel filters) throws IOException {
            passedToOpen = filters;
            if (refuseData != null) {
                throw new Cleanup.RefusedAtOpen(refuseData);
            }
            return queue.open(envelope);
        }
    };

    @AfterEach
    void close() {
        h.close();
    }

    private String open() {
        h.clientIp = "127.0.0.1";
        h.cleanup = cleanup;
        h.open();
        return h.output();
    }

    private static FilterChannel.Refusal refusal(int code, String status, String text, boolean session) {
        return new FilterChannel.Refusal(new Reply(code, status, text), "test", session);
    }

    @Test
    void everyAcceptedCommandReachesTheFiltersAndTheMessageGoesToTheSameChannel() {
        assertTrue(open().startsWith("220 "));
        h.ask("EHLO client.example.com\r\n");
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org> SIZE=10\r\n"));
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<b@example.net> NOTIFY=NEVER\r\n"));
        assertEquals("354 End data with <CR><LF>.<CR><LF>\r\n", h.ask("DATA\r\n"));
        assertTrue(h.ask("Subject: x\r\n\r\nbody\r\n.\r\n").startsWith("250 2.0.0 Ok: queued as "));
        assertEquals(channel, passedToOpen);
        h.ask("QUIT\r\n");
        h.pump();
        assertEquals(List.of("connect:127.0.0.1", "helo:client.example.com", "reset", "mail:a@example.org[SIZE]",
                "rcpt:b@example.net[NOTIFY]", "reset", "close"), heard);
    }

    @Test
    void a5xxAtConnectMakesTheGreeting554AndTheFiltersReplyComesAtMail() {
        FilterChannel.Refusal no = refusal(554, "5.7.1", "go away", true);
        refuse.put("connect:127.0.0.1", no);
        refuse.put("mail:a@example.org[]", no); // what the chain answers for the rest of the session
        assertEquals("554 mx.example.org ESMTP not accepting connections\r\n", open());
        assertEquals("250-mx.example.org\r\n250 ENHANCEDSTATUSCODES\r\n", h.ask("EHLO client.example.com\r\n"),
                "Postfix after a milter's 5xx at CONNECT");
        assertEquals("554 5.7.1 go away\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
        assertTrue(h.log.lines.stream().anyMatch(l -> l.equals(
                "info: NOQUEUE: milter-reject: CONNECT from unknown[127.0.0.1]: 554 5.7.1 go away; proto=SMTP")),
                h.log.lines.toString());
    }

    @Test
    void a4xxAtConnectKeepsTheGreeting() {
        refuse.put("connect:127.0.0.1", refusal(451, "4.7.1", "later", true));
        assertTrue(open().startsWith("220 "));
    }

    @Test
    void a421AtConnectClosesTheConnection() {
        refuse.put("connect:127.0.0.1", refusal(421, "4.7.0", "mx.example.org Server closing connection", true));
        assertEquals("421 mx.example.org Service unavailable - try again later\r\n", open());
        assertTrue(!h.channel.isActive());
    }

    @Test
    void aRefusalOfDataIsTheAnswerToData() {
        open();
        h.ask("EHLO client.example.com\r\n");
        h.ask("MAIL FROM:<a@example.org>\r\n");
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<b@example.net>\r\n"));
        refuseData = new Reply(554, "5.7.1", "no data today");
        assertEquals("554 5.7.1 no data today\r\n", h.ask("DATA\r\n"), "instead of 354");
        assertEquals("250 2.0.0 Ok\r\n", h.ask("NOOP\r\n"), "the session goes on, reading commands");
        refuseData = null;
        assertEquals("354 End data with <CR><LF>.<CR><LF>\r\n", h.ask("DATA\r\n"), "the transaction is kept");
        assertTrue(h.ask("Subject: x\r\n\r\nbody\r\n.\r\n").startsWith("250 2.0.0 Ok: queued as "));
        assertTrue(h.log.lines.stream().anyMatch(l -> l.startsWith(
                "info: NOQUEUE: milter-reject: DATA from unknown[127.0.0.1]: 554 5.7.1 no data today;")),
                h.log.lines.toString());
    }

    @Test
    void refusalsAtHeloMailAndRcptAreAnsweredThere() {
        refuse.put("helo:evil.example", refusal(550, "5.7.1", "bad helo", true));
        refuse.put("mail:spam@example.org[]", refusal(550, "5.7.1", "not you", false));
        refuse.put("rcpt:bad@example.net[]", refusal(550, "5.7.1", "not this one", false));
        refuse.put("rcpt:slow@example.net[]", refusal(451, "4.7.1", "later", false));
        open();
        // as Postfix: a HELO refusal is answered 250 (the chain answers MAIL with it); only 421 is answered at HELO
        assertEquals("250 mx.example.org\r\n", h.ask("HELO evil.example\r\n"));
        refuse.clear();
        refuse.put("mail:spam@example.org[]", refusal(550, "5.7.1", "not you", false));
        refuse.put("rcpt:bad@example.net[]", refusal(550, "5.7.1", "not this one", false));
        refuse.put("rcpt:slow@example.net[]", refusal(451, "4.7.1", "later", false));
        assertTrue(h.ask("EHLO client.example.com\r\n").startsWith("250-mx.example.org"));
        assertEquals("550 5.7.1 not you\r\n", h.ask("MAIL FROM:<spam@example.org>\r\n"));
        assertEquals("503 5.5.1 Error: need MAIL command\r\n", h.ask("RCPT TO:<b@example.net>\r\n"),
                "the refused MAIL started no transaction");
        assertEquals("250 2.1.0 Ok\r\n", h.ask("MAIL FROM:<a@example.org>\r\n"));
        assertEquals("550 5.7.1 not this one\r\n", h.ask("RCPT TO:<bad@example.net>\r\n"));
        assertEquals("451 4.7.1 later\r\n", h.ask("RCPT TO:<slow@example.net>\r\n"));
        assertEquals("250 2.1.5 Ok\r\n", h.ask("RCPT TO:<good@example.net>\r\n"));
        assertEquals("354 End data with <CR><LF>.<CR><LF>\r\n", h.ask("DATA\r\n"));
        assertTrue(h.ask("Subject: x\r\n\r\nbody\r\n.\r\n").startsWith("250 2.0.0 Ok: queued as "));
        assertEquals(List.of("good@example.net"), queue.single().envelope().recipients().stream()
                .map(Submission.Recipient::address).toList(), "only the recipient the filters accepted");
        assertTrue(h.log.lines.stream().anyMatch(l -> l.equals("info: NOQUEUE: milter-reject: RCPT from unknown[127.0.0.1]:"
                + " 550 5.7.1 not this one; from=<a@example.org> to=<bad@example.net> proto=ESMTP"
                + " helo=<client.example.com>")), h.log.lines.toString());
    }
}
