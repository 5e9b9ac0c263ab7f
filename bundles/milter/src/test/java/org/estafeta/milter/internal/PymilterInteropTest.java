package org.estafeta.milter.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.filter.EventVerdict;
import org.estafeta.api.filter.FilterSession;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.filter.HeaderEdit;
import org.estafeta.api.filter.HeaderField;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.PrivatePymilter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The session filter against a real libmilter milter (pymilter running {@link PrivatePymilter#STAGES}): each
 * stage's refusal comes back as that stage's verdict with the milter's own reply, and the end-of-message requests
 * (chgheader, delete, addheader, addrcpt, delrcpt, chgfrom, replacebody, quarantine) as the chain's verdict.
 */
class PymilterInteropTest {
    @TempDir
    Path tmp;

    private PrivatePymilter milter;
    private final FakePluginContext log = new FakePluginContext();
    private final Map<String, String> parameters = log.parameters;
    private final PluginContext context = log;

    @BeforeEach
    void start() throws Exception {
        milter = PrivatePymilter.start(tmp.resolve("pymilter"), PrivatePymilter.STAGES);
        parameters.put("smtpd_milters", milter.milterAddress());
        parameters.put("myhostname", "gw.example.org");
    }

    @AfterEach
    void stop() {
        milter.close();
    }

    private FilterSession open() {
        return new MilterSessionFilter.Smtpd().open(context);
    }

    private static ClientInfo client(String address) {
        return new ClientInfo(address, "localhost", "", false, Optional.empty());
    }

    private String why() {
        return "events: " + milter.events() + "\noutput: " + milter.output() + "\nwarnings: " + log.warnings;
    }

    @Test
    void refusalsAtConnectHeloMailAndRcptCarryTheMiltersReply() throws Exception {
        try (FilterSession s = open()) {
            assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.1",
                    "pymilter: connection from 127.0.0.2 refused")), s.connect(client("127.0.0.2")), why());
        }
        try (FilterSession s = open()) {
            assertEquals(EventVerdict.CONTINUE, s.connect(client("127.0.0.1")), why());
            assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.1", "pymilter: HELO reject.helo.test refused")),
                    s.helo("reject.helo.test"), why());
        }
        try (FilterSession s = open()) {
            s.connect(client("127.0.0.1"));
            assertEquals(EventVerdict.CONTINUE, s.helo("client.test"), why());
            assertEquals(new EventVerdict.Reject(new Reply(553, "5.7.1", "pymilter: sender refused")),
                    s.mail("reject@sender.test", Map.of()), why());
            s.abort();
            assertEquals(EventVerdict.CONTINUE, s.mail("ana@sender.test", Map.of("SIZE", "100")), why());
            assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.1", "pymilter: recipient refused")),
                    s.rcpt("reject@dest.test", Map.of()), why());
            assertEquals(new EventVerdict.Defer(new Reply(451, "4.7.1", "pymilter: recipient deferred")),
                    s.rcpt("tempfail@dest.test", Map.of()), why());
            assertEquals(EventVerdict.CONTINUE, s.rcpt("kept@dest.test", Map.of()), why());
        }
        List<String> events = milter.events();
        assertTrue(events.contains("mail <ana@sender.test> SIZE=100"), why());
        assertTrue(events.contains("rcpt <kept@dest.test> rcpt_addr=kept@dest.test"), why());
    }

    @Test
    void endOfMessageRequestsAndQuarantine() throws Exception {
        try (FilterSession s = open()) {
            s.connect(client("127.0.0.1"));
            s.helo("client.test");
            s.mail("ana@sender.test", Map.of());
            s.rcpt("kept@dest.test", Map.of());
            s.rcpt("remove@dest.test", Map.of());
            assertEquals(EventVerdict.CONTINUE, s.data("QID1"));
            s.header(new HeaderField("Subject", " please modify\r\n this"));
            s.header(new HeaderField("X-Delete-Me", " yes"));
            s.endOfHeaders();
            s.body(ByteBuffer.wrap("old body\r\n".getBytes(StandardCharsets.US_ASCII)));
            Envelope env = new Envelope("QID1", "ana@sender.test", List.of("kept@dest.test", "remove@dest.test"),
                    client("127.0.0.1"));
            FilterVerdict.Modify m = assertInstanceOf(FilterVerdict.Modify.class, s.endOfMessage(env, null), why());
            assertEquals(List.of(new Header("X-Pymilter", "modified")), m.addHeaders());
            assertEquals(List.of(new HeaderEdit("Subject", 1, Optional.of("modified by pymilter")),
                    new HeaderEdit("X-Delete-Me", 1, Optional.empty())), m.edits());
            assertEquals(List.of("added@dest.test"), m.addRecipients());
            assertEquals(List.of("remove@dest.test"), m.removeRecipients());
            assertEquals(Optional.of("new-sender@sender.test"), m.sender());
            assertEquals("body replaced by pymilter\r\n", Files.readString(m.body().orElseThrow()));
            Files.delete(m.body().get());

            s.mail("ana@sender.test", Map.of());
            s.rcpt("kept@dest.test", Map.of());
            s.data("QID2");
            s.header(new HeaderField("Subject", " quarantine me"));
            s.endOfHeaders();
            assertEquals(new FilterVerdict.Hold("milter " + milter.milterAddress() + ": pymilter: quarantined"),
                    s.endOfMessage(env, null), why());
        }
        List<String> events = milter.events();
        assertTrue(events.contains("data i=QID1"), why());
        assertTrue(events.contains("header Subject 'please modify\\n this'"),
                "the first space dropped, the fold as LF, as Postfix sends it: " + why());
    }
}
