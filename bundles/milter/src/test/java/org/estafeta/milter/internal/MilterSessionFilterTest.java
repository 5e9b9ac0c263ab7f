package org.estafeta.milter.internal;

import static org.estafeta.milter.FakeMilter.reply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
import org.estafeta.milter.FakeMilter;
import org.estafeta.testing.FakePluginContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The milters as a session filter against the scripted fake milter: each chain event becomes the milter event of
 * the same stage, and each milter answer the chain's verdict for that stage.
 */
class MilterSessionFilterTest {
    @TempDir
    Path tmp;

    private FakeMilter fake;
    private final FakePluginContext log = new FakePluginContext();
    private final Map<String, String> parameters = log.parameters;
    private final PluginContext context = log;
    private static final ClientInfo CLIENT = new ClientInfo("192.0.2.1", "client.example.com", "", false,
            Optional.of("alice"));

    @BeforeEach
    void start() throws IOException {
        fake = FakeMilter.inet();
        parameters.put("smtpd_milters", fake.address());
        parameters.put("myhostname", "mx.example.com");
        parameters.put("queue_directory", tmp.toString());
    }

    @AfterEach
    void stop() throws IOException {
        fake.close();
    }

    private FilterSession open() {
        return new MilterSessionFilter.Smtpd().open(context);
    }

    /** CONNECT, HELO, MAIL and one RCPT, each answered with CONTINUE. */
    private static void envelope(FilterSession s) {
        assertEquals(EventVerdict.CONTINUE, s.connect(CLIENT));
        assertEquals(EventVerdict.CONTINUE, s.helo("helo.example.com"));
        assertEquals(EventVerdict.CONTINUE, s.mail("a@example.com", Map.of()));
        assertEquals(EventVerdict.CONTINUE, s.rcpt("b@example.com", Map.of()));
    }

    private static Envelope envelopeOf(String... recipients) {
        return new Envelope("QID1", "a@example.com", List.of(recipients), CLIENT);
    }

    /** Every event's arguments and macros as the milter gets them, and ABORT after the end of the message. */
    @Test
    void eachEventGoesToTheMilterAtItsStageWithItsMacros() throws Exception {
        parameters.put("milter_mail_macros", "{mail_addr} {auth_authen} {auth_type}");
        parameters.put("milter_rcpt_macros", "{rcpt_addr}");
        parameters.put("milter_connect_macros", "j _ {client_addr} {client_name} {daemon_name}");
        try (FilterSession s = open()) {
            assertEquals(EventVerdict.CONTINUE, s.connect(CLIENT));
            assertEquals("OC", fake.commands().replace("D", ""), "connected and CONNECT sent at connect()");
            assertEquals(EventVerdict.CONTINUE, s.helo("helo.example.com"));
            Map<String, String> esmtp = new LinkedHashMap<>();
            esmtp.put("SIZE", "1000");
            esmtp.put("SMTPUTF8", "");
            assertEquals(EventVerdict.CONTINUE, s.mail("a@example.com", esmtp));
            assertEquals(EventVerdict.CONTINUE, s.rcpt("b@example.com", Map.of("NOTIFY", "NEVER")));
            assertEquals("OCHMR", fake.commands().replace("D", ""), "each command event at its own call");
            assertEquals(EventVerdict.CONTINUE, s.data("QID1"));
            assertEquals(EventVerdict.CONTINUE, s.header(new HeaderField("Subject", " hello\r\n world")));
            assertEquals(EventVerdict.CONTINUE, s.header(new HeaderField("X-Tab", "\tvalue")));
            assertEquals(EventVerdict.CONTINUE, s.endOfHeaders());
            byte[] big = new byte[70_000];
            java.util.Arrays.fill(big, (byte) 'x');
            assertEquals(EventVerdict.CONTINUE, s.body(ByteBuffer.wrap(big).asReadOnlyBuffer()));
            assertEquals(FilterVerdict.accept(), s.endOfMessage(envelopeOf("b@example.com"), null));
            fake.await('A');
        }
        fake.await('Q');
        assertEquals("OCHMRTLLNBBEAQ", fake.commands().replace("D", ""));
        List<FakeMilter.Packet> macros = fake.packets('D');
        assertEquals(List.of("j", "mx.example.com", "_", "client.example.com [192.0.2.1]", "{client_addr}",
                "192.0.2.1", "{client_name}", "client.example.com", "{daemon_name}", "mx.example.com"),
                macros.get(0).strings(1));
        assertEquals("client.example.com", fake.packets('C').get(0).strings().get(0));
        assertEquals(List.of("helo.example.com"), fake.packets('H').get(0).strings());
        assertEquals(List.of("<a@example.com>", "SIZE=1000", "SMTPUTF8"), fake.packets('M').get(0).strings());
        assertEquals(List.of("{mail_addr}", "a@example.com", "{auth_authen}", "alice", "{auth_type}", ""),
                macro(macros, 'M'));
        assertEquals(List.of("<b@example.com>", "NOTIFY=NEVER"), fake.packets('R').get(0).strings());
        assertEquals(List.of("{rcpt_addr}", "b@example.com"), macro(macros, 'R'));
        assertEquals(List.of("i", "QID1"), macro(macros, 'T'), "the queue ID from data()");
        assertEquals(List.of("Subject", "hello\n world"), fake.packets('L').get(0).strings(),
                "first space dropped, folds as LF, as Postfix's milter8");
        assertEquals(List.of("X-Tab", "\tvalue"), fake.packets('L').get(1).strings(), "only a space is dropped");
        assertEquals(65_535, fake.packets('B').get(0).data().length);
        assertEquals(70_000 - 65_535, fake.packets('B').get(1).data().length);
    }

    /** STARTTLS and AUTH reach the milter as Postfix's macros: TLS ones with HELO, AUTH ones with MAIL. */
    @Test
    void tlsAndAuthenticationBecomeTheMacrosPostfixSends() throws Exception {
        parameters.put("milter_helo_macros", "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}");
        parameters.put("milter_mail_macros", "{auth_type} {auth_authen}");
        ClientInfo plain = new ClientInfo("192.0.2.1", "client.example.com", "", false, Optional.empty());
        try (FilterSession s = open()) {
            assertEquals(EventVerdict.CONTINUE, s.connect(plain));
            s.tls(new org.estafeta.api.filter.TlsInfo("TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, Optional.of("client"),
                    Optional.of("Test CA")));
            assertEquals(EventVerdict.CONTINUE, s.helo("helo.example.com"));
            s.authenticated("SCRAM-SHA-256", "bob");
            assertEquals(EventVerdict.CONTINUE, s.mail("a@example.com", Map.of()));
        }
        fake.await('Q');
        List<FakeMilter.Packet> macros = fake.packets('D');
        assertEquals(List.of("{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256",
                "{cert_subject}", "client", "{cert_issuer}", "Test CA"), macro(macros, 'H'));
        assertEquals(List.of("{auth_type}", "SCRAM-SHA-256", "{auth_authen}", "bob"), macro(macros, 'M'));
    }

    private static List<String> macro(List<FakeMilter.Packet> macros, char command) {
        return macros.stream().filter(p -> p.data()[0] == command).findFirst().orElseThrow().strings(1);
    }

    @Test
    void refusalsAtEachStageBecomeTheVerdictOfThatStage() throws Exception {
        fake.script = p -> switch (p.command()) {
            case 'H' -> p.strings().get(0).equals("bad.example") ? List.of(reply('y', "554 5.7.1 bad helo"))
                    : List.of(reply('c'));
            case 'M' -> p.strings().get(0).equals("<spam@x>") ? List.of(reply('y', "553 5.7.1 go away %% now"))
                    : List.of(reply('c'));
            case 'R' -> switch (p.strings().get(0)) {
                case "<r@x>" -> List.of(reply('r'));
                case "<t@x>" -> List.of(reply('t'));
                case "<y@x>" -> List.of(reply('y', "550-5.7.1 first line\r\n550 5.7.1 second line"));
                case "<d@x>" -> List.of(reply('d'));
                default -> List.of(reply('c'));
            };
            default -> FakeMilter.defaultReply(p);
        };
        try (FilterSession s = open()) {
            s.connect(CLIENT);
            assertEquals(new EventVerdict.Reject(new Reply(554, "5.7.1", "bad helo")), s.helo("bad.example"));
        }
        try (FilterSession s = open()) {
            s.connect(CLIENT);
            s.helo("good.example");
            assertEquals(new EventVerdict.Reject(new Reply(553, "5.7.1", "go away % now")), s.mail("spam@x", Map.of()));
            s.abort();
            assertEquals(EventVerdict.CONTINUE, s.mail("a@x", Map.of()));
            assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.1", "Command rejected")), s.rcpt("r@x", Map.of()));
            assertEquals(new EventVerdict.Defer(new Reply(451, "4.7.1", "Service unavailable - try again later")),
                    s.rcpt("t@x", Map.of()));
            assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.1", "first line")), s.rcpt("y@x", Map.of()),
                    "the first line of a multi-line reply");
            assertEquals(EventVerdict.CONTINUE, s.rcpt("ok@x", Map.of()), "a recipient refusal is for that one only");
            assertInstanceOf(EventVerdict.Discard.class, s.rcpt("d@x", Map.of()));
        }
    }

    @Test
    void connectRefusalIsRepeatedForTheSessionAndShutdownIs421() throws Exception {
        fake.script = p -> p.command() == 'C' ? List.of(reply('y', "421 4.7.0 not you")) : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            EventVerdict v = s.connect(CLIENT);
            assertEquals(new EventVerdict.Defer(new Reply(421, "4.7.0", "not you")), v);
            assertEquals(v, s.helo("x"), "the milter's decision holds for the session");
        }
        fake.script = p -> p.command() == 'M' ? List.of(reply('4')) : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            s.connect(CLIENT);
            s.helo("x");
            assertEquals(new EventVerdict.Defer(new Reply(421, "4.7.0", "mx.example.com Server closing connection")),
                    s.mail("a@x", Map.of()));
        }
    }

    @Test
    void acceptAtConnectEndsTheSessionsEventsAndAcceptAtMailTheMessages() throws Exception {
        fake.script = p -> p.command() == 'M' ? List.of(reply('a')) : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            s.connect(CLIENT);
            s.helo("x");
            assertEquals(EventVerdict.ACCEPT, s.mail("a@x", Map.of()));
            // the chain sends nothing more of that message (no abort either when it was queued): the next EHLO
            // or MAIL ends the milters' transaction first, as Postfix's smtpd resets it
            assertEquals(EventVerdict.CONTINUE, s.helo("again"), "not an accept of the whole session");
            assertEquals(EventVerdict.ACCEPT, s.mail("b@x", Map.of()));
            assertEquals(EventVerdict.ACCEPT, s.mail("c@x", Map.of()));
        }
        fake.await('Q');
        assertEquals("OCHMAHMAMQ", fake.commands().replace("D", ""));
        fake.received.clear();
        fake.script = p -> p.command() == 'C' ? List.of(reply('a')) : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            assertEquals(EventVerdict.ACCEPT, s.connect(CLIENT));
        }
    }

    @Test
    void discardAtConnectOrHeloIsIgnoredAndEndOfMessageDecisions() throws Exception {
        fake.script = p -> switch (p.command()) {
            case 'H' -> List.of(reply('d'));
            case 'E' -> List.of(reply('q', "looks odd"), reply('c'));
            default -> FakeMilter.defaultReply(p);
        };
        try (FilterSession s = open()) {
            s.connect(CLIENT);
            assertEquals(EventVerdict.CONTINUE, s.helo("x"), "DISCARD is not possible at HELO");
            s.mail("a@x", Map.of());
            s.rcpt("b@x", Map.of());
            s.data("QID1");
            assertEquals(new FilterVerdict.Hold("milter " + fake.address() + ": looks odd"),
                    s.endOfMessage(envelopeOf("b@x"), null));
        }
        fake.script = p -> p.command() == 'E' ? List.of(reply('y', "554 5.7.1 Gtube pattern"))
                : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            envelope(s);
            s.data("QID2");
            assertEquals(new FilterVerdict.Reject(new Reply(554, "5.7.1", "Gtube pattern")),
                    s.endOfMessage(envelopeOf("b@example.com"), null));
        }
        fake.script = p -> p.command() == 'E' ? List.of(reply('d')) : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            envelope(s);
            s.data("QID3");
            assertInstanceOf(FilterVerdict.Discard.class, s.endOfMessage(envelopeOf("b@example.com"), null));
        }
        fake.script = p -> p.command() == 'L' ? List.of(reply('t')) : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            envelope(s);
            s.data("QID4");
            assertEquals(new EventVerdict.Defer(new Reply(451, "4.7.1", "Service unavailable - try again later")),
                    s.header(new HeaderField("Subject", " x")), "a header refusal (applied at the end of DATA)");
        }
    }

    @Test
    void endOfMessageRequestsBecomeOneModify() throws Exception {
        fake.script = p -> p.command() == 'E' ? List.of(
                reply('h', "X-Added", "added\n\tfolded"),
                reply('i', 0, "X-Top", "top"),
                reply('m', 0, "Subject", "changed"),
                reply('m', 2, "Received", ""),
                reply('+', "<new@x>"),
                reply('-', "<b@example.com>"),
                reply('e', "<sender@x>"),
                reply('b', "new body\r\n".getBytes(StandardCharsets.US_ASCII)),
                reply('c')) : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            envelope(s);
            s.data("QID1");
            s.endOfHeaders();
            s.body(ByteBuffer.wrap("old\r\n".getBytes(StandardCharsets.US_ASCII)));
            FilterVerdict v = s.endOfMessage(envelopeOf("b@example.com"), null);
            FilterVerdict.Modify m = assertInstanceOf(FilterVerdict.Modify.class, v);
            assertEquals(List.of(new Header("X-Added", "added\r\n\tfolded"), new Header("X-Top", "top")),
                    m.addHeaders());
            assertEquals(List.of(new HeaderEdit("Subject", 1, Optional.of("changed")),
                    new HeaderEdit("Received", 2, Optional.empty())), m.edits());
            assertEquals(List.of("new@x"), m.addRecipients());
            assertEquals(List.of("b@example.com"), m.removeRecipients());
            assertEquals(Optional.of("sender@x"), m.sender());
            Path body = m.body().orElseThrow();
            assertTrue(body.startsWith(tmp.resolve("tmp")) || body.startsWith(Path.of(System.getProperty(
                    "java.io.tmpdir"))), body.toString());
            assertEquals("new body\r\n", Files.readString(body));
            Files.delete(body);
            fake.await('A');
        }
    }

    @Test
    void nullSenderChangeAndAddedHeadersOnly() throws Exception {
        fake.script = p -> p.command() == 'E' ? List.of(reply('e', "<>"), reply('c')) : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            envelope(s);
            s.data("QID1");
            FilterVerdict.Modify m = assertInstanceOf(FilterVerdict.Modify.class,
                    s.endOfMessage(envelopeOf("b@example.com"), null));
            assertEquals(Optional.of(""), m.sender(), "<> is the null sender");
        }
        fake.script = p -> p.command() == 'E' ? List.of(reply('h', "X-Only", "v"), reply('c'))
                : FakeMilter.defaultReply(p);
        try (FilterSession s = open()) {
            envelope(s);
            s.data("QID2");
            assertEquals(new FilterVerdict.Accept(List.of(new Header("X-Only", "v"))),
                    s.endOfMessage(envelopeOf("b@example.com"), null));
        }
    }

    @Test
    void abortEndsTheTransactionAndANewOneFollows() throws Exception {
        try (FilterSession s = open()) {
            envelope(s);
            s.data("QID1");
            s.abort();
            fake.await('A');
            assertEquals(EventVerdict.CONTINUE, s.mail("c@x", Map.of()));
        }
        fake.await('Q');
        assertEquals("OCHMRTAMQ", fake.commands().replace("D", ""));
    }

    @Test
    void unusableParameterFailsAtConnectAndAnEmptyOneAccepts() throws Exception {
        parameters.put("smtpd_milters", "opendkim");
        FilterSession s = open();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.connect(CLIENT));
        assertTrue(e.getMessage().startsWith("smtpd_milters: "), e.getMessage());
        s.close();
        parameters.put("smtpd_milters", " ");
        try (FilterSession empty = open()) {
            assertEquals(EventVerdict.ACCEPT, empty.connect(CLIENT));
        }
        assertEquals(0, fake.connections);
    }

    @Test
    void nonSmtpdReadsItsOwnParameter() throws Exception {
        parameters.remove("smtpd_milters");
        parameters.put("non_smtpd_milters", fake.address());
        try (FilterSession s = new MilterSessionFilter.NonSmtpd().open(context)) {
            assertEquals(EventVerdict.CONTINUE, s.connect(new ClientInfo("127.0.0.1", "localhost", "", false,
                    Optional.empty())));
        }
        fake.await('Q');
        assertEquals("localhost", fake.packets('C').get(0).strings().get(0));
    }

    @Test
    void replyParsing() {
        assertEquals(new Reply(554, "5.7.1", "x"), MilterSessionFilter.reply("554 5.7.1 x", 550, "5.7.1"));
        assertEquals(new Reply(550, "5.7.1", "no status"), MilterSessionFilter.reply("550 no status", 550, "5.7.1"));
        assertEquals(new Reply(451, "4.7.1", "mismatch"),
                MilterSessionFilter.reply("451 5.7.1 mismatch", 451, "4.7.1"), "a status of the wrong class");
    }
}
