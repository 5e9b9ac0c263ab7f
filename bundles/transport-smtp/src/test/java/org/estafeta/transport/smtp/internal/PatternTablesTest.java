package org.estafeta.transport.smtp.internal;

import static org.estafeta.transport.smtp.internal.Fixtures.context;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.estafeta.testing.RecordingLogger;
import org.estafeta.transport.smtp.internal.TlsFixtures.MapTables;
import org.junit.jupiter.api.Test;

/**
 * Which tables get folded keys and partial keys, decided by the shared {@code TableNames.isPattern}: in
 * {@code *_sasl_password_maps} (fixed-string tables: keys folded, partial sender keys asked; pattern tables: the
 * whole keys as written only) and in {@code *_tls_policy_maps} (folded for fixed-string tables only; the parent
 * domains are asked of every table, as smtp_tls_policy.c's maps_find() with no flags does).
 */
class PatternTablesTest {
    private final RecordingLogger log = new RecordingLogger("smtp");

    /** What each table of {@code specs} was asked for a sender-dependent lookup of Sender+Ext@Example.org. */
    private List<String> senderLookup(String... specs) throws Exception {
        Map<String, Map<String, String>> all = new HashMap<>();
        for (String s : specs) {
            all.put(s, Map.of());
        }
        MapTables tables = new MapTables(all);
        ClientSettings settings = ClientSettings.from(context("smtp_sasl_auth_enable", "yes",
                "smtp_sasl_password_maps", String.join(", ", specs), "recipient_delimiter", "+",
                "myorigin", "example.org"), false);
        new SaslPasswords(settings.sasl(), tables, settings.localDomains()).find("Sender+Ext@Example.org",
                "MX.Example.net", "[MX.Example.net]:587");
        return tables.asked;
    }

    @Test
    void fixedStringTablesGetFoldedAndPartialKeys() throws Exception {
        List<String> expected = List.of("sender+ext@example.org", "sender@example.org", "sender+ext", "sender",
                "@example.org", "mx.example.net", "[mx.example.net]:587");
        for (String spec : List.of("hash:/etc/sasl_passwd", "proxy:hash:/etc/sasl_passwd", "texthash:/x",
                "unionmap:{hash:/a, regexp:/b}", "ldap:/etc/ldap.cf", "sqlite:/etc/s.cf")) {
            assertEquals(expected.stream().map(k -> spec + " " + k).toList(), senderLookup(spec), spec);
        }
    }

    @Test
    void patternTablesGetOnlyTheWholeKeysAsWritten() throws Exception {
        for (String spec : List.of("regexp:/etc/sasl_passwd", "pcre:/etc/sasl_passwd", "proxy:regexp:/x",
                "cidr:/x", "socketmap:inet:127.0.0.1:9999:sasl", "tcp:127.0.0.1:9999",
                "unionmap:{pcre:/a, hash:/b}", "pipemap:{regexp:/a, hash:/b}")) {
            assertEquals(List.of(spec + " Sender+Ext@Example.org", spec + " MX.Example.net",
                    spec + " [MX.Example.net]:587"), senderLookup(spec), spec);
        }
    }

    @Test
    void tlsPolicyKeysAreFoldedForFixedStringTablesOnly() {
        MapTables tables = new MapTables(Map.of("hash:/p", Map.of(), "proxy:pcre:/p", new HashMap<>()));
        TlsSettings s = ClientSettings.from(context("smtp_tls_policy_maps", "hash:/p, proxy:pcre:/p"), false).tls();
        TlsSettings.Policy p = s.policy(NextHop.parse("Sub.Example.COM", false), tables, log);
        assertEquals(TlsLevel.NONE, p.level());
        assertEquals(List.of("hash:/p sub.example.com", "proxy:pcre:/p Sub.Example.COM", "hash:/p .example.com",
                "proxy:pcre:/p .Example.COM", "hash:/p .com", "proxy:pcre:/p .COM"), tables.asked);
        tables.asked.clear();
        s.policy(NextHop.parse("[Relay.Example.COM]:587", false), tables, log);
        assertEquals(List.of("hash:/p [relay.example.com]:587", "proxy:pcre:/p [Relay.Example.COM]:587"), tables.asked);
    }

    @Test
    void theTlsPolicyOfAUnixSocketIsLookedUpByItsPath() {
        MapTables tables = new MapTables(Map.of("hash:/p", Map.of("private/dovecot-lmtp", "encrypt")));
        TlsSettings s = ClientSettings.from(context("lmtp_tls_policy_maps", "hash:/p"), true).tls();
        TlsSettings.Policy p = s.policy(NextHop.unix("private/Dovecot-LMTP", "gw.example"), tables, log);
        assertEquals(TlsLevel.ENCRYPT, p.level());
        assertEquals(List.of("hash:/p private/dovecot-lmtp"), tables.asked, "one key, no parent domains");
    }
}
