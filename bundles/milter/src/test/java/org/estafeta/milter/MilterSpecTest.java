package org.estafeta.milter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** smtpd_milters syntax, the main.cf parameters and milter_protocol. */
class MilterSpecTest {
    @Test
    void listWithPlainAndGroupedEntries() {
        List<MilterSpec> l = MilterSpec.parseList("smtpd_milters",
                "inet:localhost:8891, unix:/run/opendkim.sock\n { inet:[::1]:8892, connect_timeout=10s, "
                        + "default_action=accept, protocol=4 } local:/x.sock inet:8893");
        assertEquals(5, l.size());
        assertEquals("inet:localhost:8891", l.get(0).address());
        assertEquals(InetSocketAddress.createUnresolved("localhost", 8891), l.get(0).socket());
        assertEquals(UnixDomainSocketAddress.of(Path.of("/run/opendkim.sock")), l.get(1).socket());
        MilterSpec g = l.get(2);
        assertEquals("inet:[::1]:8892", g.address());
        assertEquals(InetSocketAddress.createUnresolved("::1", 8892), g.socket());
        assertEquals(Optional.of(Duration.ofSeconds(10)), g.connectTimeout());
        assertEquals(Optional.of(DefaultAction.ACCEPT), g.defaultAction());
        assertEquals(Optional.of("4"), g.protocol());
        assertEquals(Optional.empty(), g.commandTimeout());
        assertEquals(UnixDomainSocketAddress.of(Path.of("/x.sock")), l.get(3).socket());
        assertEquals(InetSocketAddress.createUnresolved("localhost", 8893), l.get(4).socket(), "bare port: localhost");
        assertEquals(List.of(), MilterSpec.parseList("smtpd_milters", "  "));
    }

    @Test
    void badEntriesNameTheParameter() {
        for (String bad : List.of("opendkim", "tcp:host:1", "inet:host:99999", "{ inet:h:1, timeout=1s }",
                "{ inet:h:1, default_action=bounce }", "{ inet:h:1, protocol=5 }", "{ inet:h:1", "{ inet:h:1, x }")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MilterSpec.parseList("smtpd_milters", bad), bad);
            assertEquals(true, e.getMessage().startsWith("smtpd_milters: "), e.getMessage());
        }
    }

    @Test
    void settingsFromParametersWithPostfixDefaults() {
        MilterSettings d = MilterSettings.from(n -> Optional.empty());
        assertEquals(MilterSettings.defaults(), d);
        assertEquals(Duration.ofSeconds(30), d.connectTimeout());
        assertEquals(Duration.ofSeconds(300), d.contentTimeout());
        assertEquals(DefaultAction.TEMPFAIL, d.defaultAction());
        assertEquals(List.of("j", "{daemon_name}", "{daemon_addr}", "v", "_"), d.macros().connect());
        assertEquals(List.of("i", "{rcpt_addr}", "{rcpt_host}", "{rcpt_mailer}"), d.macros().rcpt());
        Map<String, String> p = Map.of("milter_connect_timeout", "1m", "milter_command_timeout", "5",
                "milter_content_timeout", "2h", "milter_default_action", "Quarantine", "milter_protocol",
                "6 no_header_reply", "milter_data_macros", "", "milter_macro_defaults",
                "{auth_type}=none, { _ = unknown [1.2.3.4] }");
        MilterSettings s = MilterSettings.from(n -> Optional.ofNullable(p.get(n)));
        assertEquals(Duration.ofMinutes(1), s.connectTimeout());
        assertEquals(Duration.ofSeconds(5), s.commandTimeout());
        assertEquals(Duration.ofHours(2), s.contentTimeout());
        assertEquals(DefaultAction.QUARANTINE, s.defaultAction());
        assertEquals(List.of(), s.macros().data(), "an empty list sends no macros");
        assertEquals(Map.of("{auth_type}", "none", "_", "unknown [1.2.3.4]"), s.macroDefaults());
        assertThrows(IllegalArgumentException.class,
                () -> MilterSettings.from(n -> n.equals("milter_command_timeout") ? Optional.of("0s") : Optional.empty()));
        assertThrows(IllegalArgumentException.class,
                () -> MilterSettings.from(n -> n.equals("milter_default_action") ? Optional.of("bounce") : Optional.empty()));
    }

    @Test
    void protocolVersionsAndExtensions() {
        assertEquals(new ProtocolVersion(6, Protocol.V6_MASK), ProtocolVersion.parse("p", "6"));
        assertEquals(new ProtocolVersion(2, Protocol.V2_MASK | Protocol.P_NR_HDR),
                ProtocolVersion.parse("p", "2,no_header_reply"));
        assertEquals(new ProtocolVersion(4, Protocol.V4_MASK), ProtocolVersion.parse("p", "4"));
        for (String bad : List.of("", "no_header_reply", "6 4", "5", "seven")) {
            assertThrows(IllegalArgumentException.class, () -> ProtocolVersion.parse("milter_protocol", bad), bad);
        }
    }

    private static boolean valid(String reply) {
        byte[] b = reply.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return ReplyText.valid(b, b.length);
    }

    @Test
    void replyTextRules() {
        assertEquals(true, valid("550 5.7.1 no"));
        assertEquals(true, valid("451-4.7.1 a\r\n451 4.7.1 b"));
        assertEquals(false, valid("550 4.7.1 class mismatch"));
        assertEquals(false, valid("250 ok"));
        assertEquals(false, valid("550-no final\r\n"));
        assertEquals(false, valid("550"));
        assertEquals("100% sure", ReplyText.unpercent("100%% sure"));
        assertEquals("ab", ReplyText.unpercent("a%b"));
    }
}
