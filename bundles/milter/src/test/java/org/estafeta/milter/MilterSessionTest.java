package org.estafeta.milter;

import static org.estafeta.milter.FakeMilter.optneg;
import static org.estafeta.milter.FakeMilter.reply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.milter.MilterSession.AddressFamily;
import org.estafeta.milter.MilterVerdict.Action;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/** The protocol engine against a scripted fake milter: every reply type, negotiation edge cases, errors. */
class MilterSessionTest {
    @TempDir
    Path tmp;

    private FakeMilter fake;
    private final RecordingLogger log = new RecordingLogger("milter");
    private final Map<String, String> macros = new HashMap<>(Map.of("j", "mx.example.com", "{client_addr}", "192.0.2.1",
            "i", "QUEUEID1"));
    private MilterSettings settings = MilterSettings.defaults();

    @BeforeEach
    void start() throws IOException {
        fake = FakeMilter.inet();
    }

    @AfterEach
    void stop() throws IOException {
        fake.close();
    }

    private MilterSession open(String... extra) {
        List<MilterSpec> specs = new ArrayList<>();
        specs.add(MilterSpec.of(fake.address()));
        for (String e : extra) {
            specs.addAll(MilterSpec.parseList("smtpd_milters", e));
        }
        return Milters.open(specs, settings, macros::get, log);
    }

    private static void envelope(MilterSession s) {
        assertEquals(Action.CONTINUE, s.connect("client.example.com", AddressFamily.INET, "192.0.2.1", 4321).action());
        assertEquals(Action.CONTINUE, s.helo("client.example.com").action());
        assertEquals(Action.CONTINUE, s.mail("a@example.com", List.of("BODY=8BITMIME")).action());
        assertEquals(Action.CONTINUE, s.rcpt("b@example.com", List.of()).action());
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void negotiatesVersion6WithAllActionsAndSendsEventsWithMacros() throws Exception {
        try (MilterSession s = open()) {
            envelope(s);
            assertEquals(Action.CONTINUE, s.data().action());
            assertEquals(Action.CONTINUE, s.header("Subject", " hello").action());
            assertEquals(Action.CONTINUE, s.endOfHeaders().action());
            assertEquals(Action.CONTINUE, s.body(ascii("text\r\n")).action());
            try (MilterResult r = s.endOfMessage()) {
                assertEquals(Action.CONTINUE, r.verdict().action());
                assertTrue(r.actions().isEmpty());
            }
            s.abort();
        }
        fake.await('Q');
        assertEquals("ODCDHDMDRDTDLDNDBDEAQ", fake.commands());
        ByteBuffer o = ByteBuffer.wrap(fake.packets('O').get(0).data());
        assertEquals(6, o.getInt());
        assertEquals(0x1ff, o.getInt());
        assertEquals(Protocol.V6_MASK, o.getInt());
        FakeMilter.Packet connectMacros = fake.packets('D').get(0);
        assertEquals('C', (char) connectMacros.data()[0]);
        assertEquals(List.of("j", "mx.example.com"), connectMacros.strings(1), "only defined macros are sent");
        FakeMilter.Packet connect = fake.packets('C').get(0);
        assertEquals("client.example.com", connect.strings().get(0));
        byte[] d = connect.data();
        int at = "client.example.com".length() + 1;
        assertEquals('4', (char) d[at]);
        assertEquals(4321, (d[at + 1] & 0xff) << 8 | d[at + 2] & 0xff);
        assertEquals("192.0.2.1", new String(d, at + 3, d.length - at - 4, StandardCharsets.US_ASCII));
        assertEquals(List.of("<a@example.com>", "BODY=8BITMIME"), fake.packets('M').get(0).strings());
        assertEquals(List.of("<b@example.com>"), fake.packets('R').get(0).strings());
        assertEquals(List.of("i", "QUEUEID1"), fake.packets('D').get(2).strings(1), "mail macros");
        assertEquals(List.of("Subject", "hello"), fake.packets('L').get(0).strings(), "first space eaten");
        assertEquals("text\r\n", new String(fake.packets('B').get(0).data(), StandardCharsets.US_ASCII));
    }

    @Test
    void unknownClientNameIsSentAsBracketedAddressAndSettingsMacrosApply() throws Exception {
        settings = MilterSettings.from(n -> Optional.ofNullable(Map.of("milter_macro_daemon_name", "mx.example.com",
                "milter_macro_v", "Estafeta 0.1", "milter_connect_macros", "{daemon_name} v {undefined}",
                "milter_macro_defaults", "{undefined}=fallback").get(n)));
        try (MilterSession s = open()) {
            s.connect("unknown", AddressFamily.INET6, "2001:db8::1", 25);
        }
        fake.await('Q');
        assertEquals("[2001:db8::1]", fake.packets('C').get(0).strings().get(0));
        assertEquals('6', (char) fake.packets('C').get(0).data()["[2001:db8::1]".length() + 1]);
        assertEquals(List.of("{daemon_name}", "mx.example.com", "v", "Estafeta 0.1", "{undefined}", "fallback"),
                fake.packets('D').get(0).strings(1));
    }

    @Test
    void rejectTempfailAndReplycodeForOneRecipient() {
        fake.script = p -> switch (p.command()) {
            case 'R' -> switch (p.strings().get(0)) {
                case "<r@x>" -> List.of(reply('r'));
                case "<t@x>" -> List.of(reply('t'));
                case "<y@x>" -> List.of(reply('y', "550-5.7.1 first line\r\n550 5.7.1 100%% sure %x"));
                default -> List.of(reply('c'));
            };
            default -> FakeMilter.defaultReply(p);
        };
        try (MilterSession s = open()) {
            envelope(s);
            MilterVerdict r = s.rcpt("r@x", List.of());
            assertEquals(new MilterVerdict(Action.REJECT, "550 5.7.1 Command rejected", fake.address()), r);
            assertEquals(new MilterVerdict(Action.TEMPFAIL, "451 4.7.1 Service unavailable - try again later",
                    fake.address()), s.rcpt("t@x", List.of()));
            assertEquals("550-5.7.1 first line\r\n550 5.7.1 100% sure x", s.rcpt("y@x", List.of()).reply());
            assertEquals(Action.CONTINUE, s.rcpt("ok@x", List.of()).action(), "a recipient decision is not persistent");
        }
    }

    @Test
    void connectLevelRejectIsPersistentAndNothingMoreIsSent() throws Exception {
        fake.script = p -> p.command() == 'C' ? List.of(reply('y', "421 4.7.0 go away")) : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            MilterVerdict v = s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
            assertEquals(Action.TEMPFAIL, v.action());
            assertEquals("421 4.7.0 go away", v.reply());
            assertEquals(v, s.helo("c"));
            assertEquals(v, s.mail("a@b", List.of()));
        }
        fake.await('Q');
        assertEquals("ODCQ", fake.commands());
    }

    @Test
    void acceptAtConnectEndsTheMilterForTheConnectionAcceptAtMailForTheMessage() throws Exception {
        fake.script = p -> p.command() == 'C' ? List.of(reply('a')) : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            assertEquals(Action.ACCEPT, s.connect("c", AddressFamily.INET, "192.0.2.1", 1).action());
            assertEquals(Action.ACCEPT, s.helo("c").action());
            assertEquals(Action.ACCEPT, s.mail("a@b", List.of()).action());
        }
        fake.await('Q');
        assertEquals("ODCQ", fake.commands());

        fake.received.clear();
        fake.script = p -> p.command() == 'M' && fake.packets('M').size() == 1 ? List.of(reply('a'))
                : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
            assertEquals(Action.ACCEPT, s.mail("a@b", List.of()).action());
            assertEquals(Action.ACCEPT, s.rcpt("c@d", List.of()).action());
            assertEquals(Action.ACCEPT, s.header("X", "y").action());
            try (MilterResult r = s.endOfMessage()) {
                assertEquals(Action.CONTINUE, r.verdict().action());
            }
            s.abort();
            assertEquals(Action.CONTINUE, s.mail("a@b", List.of()).action(), "the next transaction gets events again");
        }
        fake.await('Q');
        assertEquals("ODCDMADMQ", fake.commands(), "ABORT after the message-level accept, nothing in between");
    }

    @Test
    void discardOnlyForMessagesShutdownForTheConnection() throws Exception {
        fake.script = p -> switch (p.command()) {
            case 'H' -> List.of(reply('d'));
            case 'R' -> List.of(reply('d'));
            default -> FakeMilter.defaultReply(p);
        };
        try (MilterSession s = open()) {
            s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
            assertEquals(Action.CONTINUE, s.helo("c").action(), "DISCARD is not allowed for connect or helo");
            assertTrue(log.lines(Level.WARN).contains("milter " + fake.address()
                    + ": DISCARD action is not allowed for connect or helo"), log.lines().toString());
            s.mail("a@b", List.of());
            assertEquals(new MilterVerdict(Action.DISCARD, "", fake.address()), s.rcpt("c@d", List.of()));
        }
        fake.script = p -> p.command() == 'M' ? List.of(reply('4')) : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
            MilterVerdict v = s.mail("a@b", List.of());
            assertEquals(Action.SHUTDOWN, v.action());
            assertEquals("421 4.7.0 Server closing connection", v.reply());
            assertEquals(v, s.rcpt("c@d", List.of()), "persistent");
        }
    }

    @Test
    void endOfMessageModificationsInOrder() throws Exception {
        byte[] big = new byte[70_000];
        java.util.Arrays.fill(big, (byte) 'x');
        fake.script = p -> p.command() == 'E' ? List.of(
                reply('h', "X-Added", "added value"),
                reply('i', 0, "X-Top", "top"),
                reply('m', 0, "Subject", "changed"),
                reply('m', 2, "Received", ""),
                reply('+', "<new@x>"),
                reply('2', "<new2@x>", "NOTIFY=NEVER"),
                reply('-', "<b@example.com>"),
                reply('e', "<sender@x>"),
                reply('b', big),
                reply('b', ascii("\r\nend\r\n")),
                reply('q', "held by policy"),
                reply('c')) : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            envelope(s);
            s.data();
            s.header("Subject", " s");
            s.endOfHeaders();
            s.body(ascii("b\r\n"));
            try (MilterResult r = s.endOfMessage()) {
                assertEquals(new MilterVerdict(Action.QUARANTINE, "held by policy", fake.address()), r.verdict());
                List<MilterAction> a = r.actions();
                assertEquals(new MilterAction.AddHeader("X-Added", " added value"), a.get(0));
                assertEquals(new MilterAction.InsertHeader(0, "X-Top", " top"), a.get(1));
                assertEquals(new MilterAction.ChangeHeader(1, "Subject", " changed"), a.get(2), "index 0 means 1");
                assertEquals(new MilterAction.DeleteHeader(2, "Received"), a.get(3));
                assertEquals(new MilterAction.AddRecipient("<new@x>", ""), a.get(4));
                assertEquals(new MilterAction.AddRecipient("<new2@x>", "NOTIFY=NEVER"), a.get(5));
                assertEquals(new MilterAction.DeleteRecipient("<b@example.com>"), a.get(6));
                assertEquals(new MilterAction.ChangeSender("<sender@x>", ""), a.get(7));
                BodyReplacement body = ((MilterAction.ReplaceBody) a.get(8)).body();
                assertEquals(70_007, body.size());
                try (InputStream in = body.open()) {
                    byte[] all = in.readAllBytes();
                    assertEquals("x\r\nend\r\n", new String(all, 69_999, 8, StandardCharsets.US_ASCII));
                }
                assertEquals(9, a.size());
            }
        }
    }

    @Test
    void leadingSpaceKeptWhenNegotiated() throws Exception {
        fake.optneg = optneg(6, Protocol.MY_ACTIONS, Protocol.P_HDR_LEADSPC);
        fake.script = p -> p.command() == 'E' ? List.of(reply('h', "X-A", " spaced"), reply('c'))
                : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            envelope(s);
            s.header("Subject", "  two spaces");
            try (MilterResult r = s.endOfMessage()) {
                assertEquals(List.of(new MilterAction.AddHeader("X-A", " spaced")), r.actions());
            }
        }
        assertEquals(List.of("Subject", "  two spaces"), fake.packets('L').get(0).strings());
    }

    @Test
    void bodyReplacementMixedWithOtherRequestsIsAConfigurationError() {
        fake.script = p -> p.command() == 'E' ? List.of(reply('b', ascii("a\r\n")), reply('h', "X", "y"),
                reply('b', ascii("b\r\n")), reply('c')) : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            envelope(s);
            try (MilterResult r = s.endOfMessage()) {
                assertEquals("451 4.3.5 Server configuration problem - try again later", r.verdict().reply());
            }
            assertTrue(log.lines(Level.WARN).contains("milter " + fake.address()
                    + ": body replacement requests can't currently be mixed with other requests"));
            assertEquals(Action.TEMPFAIL, s.mail("a@b", List.of()).action(), "the default reply persists");
        }
    }

    @Test
    void malformedReplycodeAndBadHeaderIndexAreConfigurationErrors() {
        fake.script = p -> p.command() == 'R' ? List.of(reply('y', "250 2.0.0 ok")) : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
            s.mail("a@b", List.of());
            assertEquals("451 4.3.5 Server configuration problem - try again later", s.rcpt("c@d", List.of()).reply());
            assertTrue(log.lines(Level.WARN).contains("milter " + fake.address() + ": malformed reply: 250 2.0.0 ok"));
        }
        fake.script = p -> p.command() == 'E' ? List.of(reply('m', -1, "X", "y")) : FakeMilter.defaultReply(p);
        try (MilterSession s = open("{ " + fake.address() + ", default_action=accept }")) {
            envelope(s);
            try (MilterResult r = s.endOfMessage()) {
                // the first milter fails with tempfail; the second (same fake, accept) is never asked
                assertEquals("451 4.3.5 Server configuration problem - try again later", r.verdict().reply());
            }
            assertTrue(log.lines(Level.WARN).contains("milter " + fake.address() + ": bad change header index: -1"));
        }
    }

    @Test
    void skipStopsFurtherBodyChunksButNotTheEndOfMessage() throws Exception {
        fake.script = p -> p.command() == 'B' ? List.of(reply('s')) : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            envelope(s);
            s.body(new byte[200_000]);
            try (MilterResult r = s.endOfMessage()) {
                assertEquals(Action.CONTINUE, r.verdict().action());
            }
        }
        fake.await('Q');
        assertEquals(1, fake.packets('B').size());
        assertEquals(65535, fake.packets('B').get(0).data().length);
        assertEquals(1, fake.packets('E').size());
    }

    @Test
    void bodyIsSentInChunksOfAtMost65535Bytes() throws Exception {
        try (MilterSession s = open()) {
            envelope(s);
            for (int i = 0; i < 20; i++) {
                s.body(new byte[10_001]);
            }
            s.endOfMessage().close();
        }
        fake.await('Q');
        List<Integer> sizes = fake.packets('B').stream().map(p -> p.data().length).toList();
        assertEquals(List.of(65535, 65535, 65535, 200_020 - 3 * 65535), sizes);
    }

    @Test
    void noReplyEventsAndDeclinedEvents() throws Exception {
        fake.optneg = optneg(6, Protocol.MY_ACTIONS, Protocol.P_NOHELO | Protocol.P_NR_HDR | Protocol.P_NR_CONN);
        fake.script = p -> switch (p.command()) {
            case 'L', 'C' -> List.of(); // never answers: the client must not wait
            default -> FakeMilter.defaultReply(p);
        };
        settings = new MilterSettings(Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(2),
                DefaultAction.TEMPFAIL, "6", MilterMacros.POSTFIX_DEFAULTS, Map.of(), "", "");
        try (MilterSession s = open()) {
            envelope(s);
            for (int i = 0; i < 5; i++) {
                assertEquals(Action.CONTINUE, s.header("X-" + i, "v").action());
            }
            s.endOfMessage().close();
        }
        fake.await('Q');
        assertTrue(fake.packets('H').isEmpty(), "HELO declined");
        assertTrue(fake.commands().startsWith("ODCDDM"), fake.commands() + ": HELO's macros are still sent");
        assertEquals(5, fake.packets('L').size());
        assertTrue(log.lines(Level.WARN).isEmpty(), log.lines().toString());
    }

    @Test
    void olderProtocolVersionsNeverGetEventsTheyDoNotDefine() throws Exception {
        fake.optneg = optneg(2, Protocol.F_ADDHDRS, 0);
        try (MilterSession s = open()) {
            envelope(s);
            assertEquals(Action.CONTINUE, s.data().action());
            assertEquals(Action.CONTINUE, s.unknownCommand("XFOO").action());
            s.endOfMessage().close();
        }
        fake.await('Q');
        assertTrue(fake.packets('T').isEmpty());
        assertTrue(fake.packets('U').isEmpty());
        assertFalse(fake.packets('E').isEmpty());
    }

    @Test
    void milterMacroListsFromNegotiation() throws Exception {
        // SMFIM_CONNECT (0) followed by the milter's list; the helper's packet framing stripped off
        byte[] framed = reply('x', 0, "{client_addr}");
        byte[] list = java.util.Arrays.copyOfRange(framed, 5, framed.length);
        fake.optneg = optneg(6, Protocol.MY_ACTIONS, 0, list);
        try (MilterSession s = open()) {
            s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
        }
        fake.await('Q');
        assertEquals(List.of("{client_addr}", "192.0.2.1"), fake.packets('D').get(0).strings(1));
    }

    @Test
    void negotiationConflictsFailWithTheDefaultAction() {
        fake.optneg = optneg(7, Protocol.MY_ACTIONS, 0);
        try (MilterSession s = open()) {
            assertEquals(new MilterVerdict(Action.TEMPFAIL, "451 4.7.1 Service unavailable - try again later",
                    fake.address()), s.connect("c", AddressFamily.INET, "192.0.2.1", 1));
        }
        assertTrue(log.lines(Level.WARN).contains("milter " + fake.address()
                + ": protocol version 7 conflict with MTA protocol version 6"), log.lines().toString());
        log.clear();
        fake.optneg = optneg(6, 1 << 12, 0);
        try (MilterSession s = Milters.open(MilterSpec.parseList("smtpd_milters",
                "{ " + fake.address() + ", default_action=accept }"), settings, macros::get, log)) {
            assertEquals(Action.ACCEPT, s.connect("c", AddressFamily.INET, "192.0.2.1", 1).action());
        }
        assertTrue(log.lines(Level.WARN).contains("milter " + fake.address()
                + ": request mask 0x1000 conflict with MTA request mask 0x1ff"), log.lines().toString());
    }

    @Test
    void unreachableMilterUsesEachDefaultAction() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String down = "inet:127.0.0.1:" + port;
        Map<String, MilterVerdict> expected = Map.of(
                "tempfail", new MilterVerdict(Action.TEMPFAIL, "451 4.7.1 Service unavailable - try again later", down),
                "reject", new MilterVerdict(Action.REJECT, "550 5.5.0 Service unavailable", down),
                "quarantine", new MilterVerdict(Action.QUARANTINE, "default_action", down));
        for (var e : expected.entrySet()) {
            try (MilterSession s = Milters.open(MilterSpec.parseList("smtpd_milters",
                    "{" + down + ", default_action=" + e.getKey() + "}"), settings, macros::get, log)) {
                assertEquals(e.getValue(), s.connect("c", AddressFamily.INET, "192.0.2.1", 1));
                assertEquals(e.getValue(), s.mail("a@b", List.of()), "persistent");
            }
        }
        try (MilterSession s = Milters.open(MilterSpec.parseList("smtpd_milters",
                "{" + down + ", default_action=accept}, " + fake.address()), settings, macros::get, log)) {
            assertEquals(Action.CONTINUE, s.connect("c", AddressFamily.INET, "192.0.2.1", 1).action());
            assertEquals(Action.CONTINUE, s.mail("a@b", List.of()).action());
        }
        assertTrue(log.lines(Level.WARN).stream().anyMatch(l -> l.startsWith("connect to Milter service " + down + ": ")),
                log.lines().toString());
        fake.await('M');
    }

    @Test
    void commandTimeoutAppliesTheDefaultAction() {
        fake.script = p -> p.command() == 'M' ? List.of() : FakeMilter.defaultReply(p);
        try (MilterSession s = Milters.open(MilterSpec.parseList("smtpd_milters",
                "{ " + fake.address() + ", command_timeout=1s }"), settings, macros::get, log)) {
            s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
            long t0 = System.nanoTime();
            MilterVerdict v = s.mail("a@b", List.of());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(Action.TEMPFAIL, v.action());
            assertTrue(ms >= 900 && ms < 5000, ms + " ms");
        }
        assertTrue(log.lines(Level.WARN).contains("milter " + fake.address()
                + ": can't read SMFIC_MAIL reply packet header: Connection timed out"), log.lines().toString());
    }

    @Test
    void contentTimeoutAppliesToHeadersAndCommandTimeoutToTheEnvelope() {
        fake.script = p -> p.command() == 'L' ? List.of() : FakeMilter.defaultReply(p);
        settings = new MilterSettings(Duration.ofSeconds(5), Duration.ofMillis(300), Duration.ofSeconds(1),
                DefaultAction.REJECT, "6", MilterMacros.POSTFIX_DEFAULTS, Map.of(), "", "");
        try (MilterSession s = open()) {
            envelope(s);
            long t0 = System.nanoTime();
            MilterVerdict v = s.header("Subject", " x");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(new MilterVerdict(Action.REJECT, "550 5.5.0 Service unavailable", fake.address()), v);
            assertTrue(ms >= 900 && ms < 5000, ms + " ms: milter_content_timeout, not milter_command_timeout");
            try (MilterResult r = s.endOfMessage()) {
                assertEquals(v, r.verdict());
            }
        }
        assertTrue(log.lines(Level.WARN).contains("milter " + fake.address()
                + ": can't read SMFIC_HEADER reply packet header: Connection timed out"), log.lines().toString());
    }

    @Test
    void milterThatHangsUpFailsWithTheDefaultAction() throws Exception {
        fake.script = p -> {
            if (p.command() == 'R') {
                throw new IllegalStateException("hang up"); // the fake's session thread dies and closes the socket
            }
            return FakeMilter.defaultReply(p);
        };
        try (MilterSession s = open()) {
            s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
            s.mail("a@b", List.of());
            assertEquals(Action.TEMPFAIL, s.rcpt("c@d", List.of()).action());
            assertEquals(Action.TEMPFAIL, s.data().action(), "persistent");
        }
        assertTrue(log.lines(Level.WARN).stream().anyMatch(l -> l.startsWith("milter " + fake.address()
                + ": can't read SMFIC_RCPT reply packet header: ")), log.lines().toString());
    }

    @Test
    void protocolViolationsAreCommunicationErrors() {
        fake.script = p -> switch (p.command()) {
            case 'M' -> List.of(reply('c', "junk"));
            default -> FakeMilter.defaultReply(p);
        };
        try (MilterSession s = open()) {
            s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
            assertEquals(Action.TEMPFAIL, s.mail("a@b", List.of()).action());
        }
        assertTrue(log.lines(Level.WARN).contains("milter " + fake.address()
                + ": reply SMFIR_CONTINUE was followed by 5 data bytes"), log.lines().toString());
        log.clear();
        fake.script = p -> p.command() == 'R' ? List.of(reply('h', "X", "y")) : FakeMilter.defaultReply(p);
        try (MilterSession s = open()) {
            s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
            s.mail("a@b", List.of());
            assertEquals(Action.TEMPFAIL, s.rcpt("c@d", List.of()).action());
        }
        assertTrue(log.lines(Level.WARN).contains("milter " + fake.address()
                + ": unexpected filter response SMFIR_ADDHEADER after event SMFIC_RCPT"), log.lines().toString());
    }

    @Test
    void firstFinalVerdictStopsTheEventForLaterMilters() throws Exception {
        try (FakeMilter second = FakeMilter.inet()) {
            fake.script = p -> p.command() == 'R' ? List.of(reply('r')) : FakeMilter.defaultReply(p);
            try (MilterSession s = Milters.open(List.of(MilterSpec.of(fake.address()), MilterSpec.of(second.address())),
                    settings, macros::get, log)) {
                s.connect("c", AddressFamily.INET, "192.0.2.1", 1);
                s.mail("a@b", List.of());
                assertEquals(fake.address(), s.rcpt("c@d", List.of()).milter());
                assertEquals(List.of(fake.address(), second.address()), s.milterNames());
            }
            second.await('Q');
            assertFalse(second.commands().contains("R"), second.commands());
            assertTrue(second.commands().contains("M"), second.commands());
        }
    }

    @Test
    void unixSocketMilter() throws Exception {
        try (FakeMilter u = FakeMilter.unix(tmp.resolve("milter.sock"))) {
            try (MilterSession s = Milters.open(MilterSpec.parseList("non_smtpd_milters", u.address()), settings,
                    macros::get, log)) {
                envelope(s);
            }
            u.await('Q');
            assertEquals("ODCDHDMDRQ", u.commands());
        }
    }
}
