package org.estafeta.rewrite.internal;

import static org.estafeta.rewrite.Resolution.AddressClass.DEFAULT;
import static org.estafeta.rewrite.Resolution.AddressClass.LOCAL;
import static org.estafeta.rewrite.Resolution.AddressClass.RELAY;
import static org.estafeta.rewrite.Resolution.AddressClass.VIRTUAL_ALIAS;
import static org.estafeta.rewrite.Resolution.AddressClass.VIRTUAL_MAILBOX;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.estafeta.config.ConfigLoader;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.rewrite.Resolution;
import org.estafeta.rewrite.Resolution.AddressClass;
import org.estafeta.rewrite.ResolutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resolution as Postfix's trivial-rewrite does it, each case on a main.cf read by the real ConfigLoader (so every
 * parameter not set here has Estafeta's built-in default, which is Postfix's) and real texthash:/regexp: tables.
 */
class ResolverTest {
    /** Every test starts from this; compatibility_level 3.6 turns append_dot_mydomain off, as modern Postfix. */
    private static final List<String> BASE = List.of(
            "myhostname = mx.example.net",
            "mydomain = example.net",
            "compatibility_level = 3.6",
            "inet_interfaces = 127.0.0.1");

    @TempDir
    Path dir;

    final TestTables tables = new TestTables();

    private ConfigSnapshot config(String... lines) throws Exception {
        List<String> all = new ArrayList<>(BASE);
        all.addAll(List.of(lines));
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.write(conf.resolve("main.cf"), all);
        return ConfigLoader.load(conf, dir.resolve("var"));
    }

    /** Writes a table source file and returns its path. */
    private String file(String name, String... lines) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, List.of(lines));
        return p.toString();
    }

    private Resolution resolve(ConfigSnapshot c, String sender, String recipient) throws ResolutionException {
        return new AddressResolverComponent(tables).resolve(c, sender, recipient);
    }

    private void expect(ConfigSnapshot c, String recipient, AddressClass cls, String transport, String nexthop,
            String resolved) throws ResolutionException {
        assertEquals(new Resolution(cls, transport, nexthop, resolved), resolve(c, "", recipient), recipient);
    }

    // ---- address classes ----

    @Test
    void localClassByMydestinationGoesToLocalTransportWithMyhostnameAsNexthop() throws Exception {
        ConfigSnapshot c = config();
        expect(c, "joe@mx.example.net", LOCAL, "local", "mx.example.net", "joe@mx.example.net");
        expect(c, "joe@localhost", LOCAL, "local", "mx.example.net", "joe@localhost");
        expect(c, "joe@localhost.example.net", LOCAL, "local", "mx.example.net", "joe@localhost.example.net");
        expect(c, "Joe@MX.Example.NET", LOCAL, "local", "mx.example.net", "Joe@MX.Example.NET");
        // local_transport without a next hop: the recipient's domain, as resolve.c falls back to
        expect(config("local_transport = local"), "joe@localhost", LOCAL, "local", "localhost", "joe@localhost");
    }

    @Test
    void mydestinationIsAStringListWithTables() throws Exception {
        ConfigSnapshot c = config("mydestination = $myhostname, texthash:" + file("dests", "example.com OK"));
        expect(c, "a@example.com", LOCAL, "local", "mx.example.net", "a@example.com");
        // no parent matching in mydestination: a subdomain is remote
        expect(c, "a@sub.example.com", DEFAULT, "smtp", "sub.example.com", "a@sub.example.com");
        expect(c, "a@localhost", DEFAULT, "smtp", "localhost", "a@localhost");
    }

    @Test
    void addressLiteralsOfOurInterfacesAreLocal() throws Exception {
        ConfigSnapshot c = config();
        expect(c, "a@[127.0.0.1]", LOCAL, "local", "mx.example.net", "a@[127.0.0.1]");
        expect(c, "a@[127.0.0.2]", DEFAULT, "smtp", "[127.0.0.2]", "a@[127.0.0.2]");
        ConfigSnapshot proxied = config("proxy_interfaces = 192.0.2.7");
        expect(proxied, "a@[192.0.2.7]", LOCAL, "local", "mx.example.net", "a@[192.0.2.7]");
        // inet_interfaces = all: any address of this machine (the loopback address always is one)
        expect(config("inet_interfaces = all"), "a@[127.0.0.1]", LOCAL, "local", "mx.example.net", "a@[127.0.0.1]");
    }

    @Test
    void numericDomainsAreBadSyntaxUnlessResolveNumericDomain() throws Exception {
        expect(config(), "a@127.0.0.1", DEFAULT, "error", "5.1.3 bad address syntax", "a@127.0.0.1");
        ConfigSnapshot c = config("resolve_numeric_domain = yes");
        expect(c, "a@127.0.0.1", LOCAL, "local", "mx.example.net", "a@[127.0.0.1]");
        expect(c, "a@192.0.2.9", DEFAULT, "smtp", "[192.0.2.9]", "a@[192.0.2.9]");
    }

    @Test
    void virtualAliasDomainsBounceAsUserUnknownWhateverTransportMapsSay() throws Exception {
        ConfigSnapshot c = config("virtual_alias_domains = alias.example",
                "transport_maps = texthash:" + file("t", "* smtp:[wild.example]"));
        expect(c, "x@alias.example", VIRTUAL_ALIAS, "error", "5.1.1 User unknown in virtual alias table",
                "x@alias.example");
        expect(config("virtual_alias_domains = alias.example", "show_user_unknown_table_name = no"),
                "x@alias.example", VIRTUAL_ALIAS, "error", "5.1.1 User unknown", "x@alias.example");
    }

    @Test
    void virtualMailboxDomainsGoToVirtualTransport() throws Exception {
        expect(config("virtual_mailbox_domains = vmail.example"), "x@vmail.example", VIRTUAL_MAILBOX, "virtual",
                "vmail.example", "x@vmail.example");
        expect(config("virtual_mailbox_domains = vmail.example", "virtual_transport = lmtp:unix:private/dovecot"),
                "x@vmail.example", VIRTUAL_MAILBOX, "lmtp", "unix:private/dovecot", "x@vmail.example");
        // a string list: no subdomains
        expect(config("virtual_mailbox_domains = vmail.example"), "x@a.vmail.example", DEFAULT, "smtp",
                "a.vmail.example", "x@a.vmail.example");
    }

    @Test
    void relayDomainsMatchSubdomainsByParentStyle() throws Exception {
        ConfigSnapshot c = config("relay_domains = example.com");
        expect(c, "a@example.com", RELAY, "relay", "example.com", "a@example.com");
        expect(c, "a@deep.sub.example.com", RELAY, "relay", "deep.sub.example.com", "a@deep.sub.example.com");
        expect(c, "a@notexample.com", DEFAULT, "smtp", "notexample.com", "a@notexample.com");
        // relay_domains not in parent_domain_matches_subdomains: example.com is exact, .example.com the subdomains
        ConfigSnapshot strict = config("relay_domains = example.com, .example.org",
                "parent_domain_matches_subdomains =");
        expect(strict, "a@sub.example.com", DEFAULT, "smtp", "sub.example.com", "a@sub.example.com");
        expect(strict, "a@sub.example.org", RELAY, "relay", "sub.example.org", "a@sub.example.org");
        expect(strict, "a@example.org", DEFAULT, "smtp", "example.org", "a@example.org");
        // a table in relay_domains is asked the domain, then its parents
        ConfigSnapshot table = config("relay_domains = texthash:" + file("relays", "example.com x"));
        expect(table, "a@b.example.com", RELAY, "relay", "b.example.com", "a@b.example.com");
    }

    @Test
    void relayhostAppliesToRelayAndDefaultClassesButATransportsOwnNexthopWins() throws Exception {
        ConfigSnapshot c = config("relay_domains = example.com", "relayhost = [gw.example.net]:587");
        expect(c, "a@example.com", RELAY, "relay", "[gw.example.net]:587", "a@example.com");
        expect(c, "a@example.org", DEFAULT, "smtp", "[gw.example.net]:587", "a@example.org");
        expect(c, "a@mx.example.net", LOCAL, "local", "mx.example.net", "a@mx.example.net");
        ConfigSnapshot own = config("relay_domains = example.com", "relayhost = [gw.example.net]:587",
                "relay_transport = relay:[inbound.example.com]", "default_transport = smtp:[out.example.net]:2525");
        expect(own, "a@example.com", RELAY, "relay", "[inbound.example.com]", "a@example.com");
        expect(own, "a@example.org", DEFAULT, "smtp", "[out.example.net]:2525", "a@example.org");
        expect(config("default_transport = error:outbound mail is disabled"), "a@example.org", DEFAULT, "error",
                "outbound mail is disabled", "a@example.org");
    }

    // ---- sender-dependent tables ----

    @Test
    void senderDependentRelayhostBySenderExtensionLocalPartAndDomain() throws Exception {
        ConfigSnapshot c = config("relayhost = [default.relay]", "recipient_delimiter = +",
                "sender_dependent_relayhost_maps = texthash:" + file("sdr",
                        "alice@example.net [alice.relay]:2525",
                        "bob [bob.relay]",
                        "@example.org [org.relay]",
                        "<> [bounce.relay]",
                        "dunno@example.org DUNNO"));
        String rcpt = "to@remote.example";
        assertEquals("[alice.relay]:2525", resolve(c, "alice@example.net", rcpt).nexthop());
        assertEquals("[alice.relay]:2525", resolve(c, "alice+list@example.net", rcpt).nexthop());
        assertEquals("[org.relay]", resolve(c, "carol@example.org", rcpt).nexthop());
        assertEquals("[bounce.relay]", resolve(c, "", rcpt).nexthop());
        assertEquals("[default.relay]", resolve(c, "dunno@example.org", rcpt).nexthop());
        assertEquals("[default.relay]", resolve(c, "carol@example.com", rcpt).nexthop());
        // a bare local part matches only senders in a local domain (or $myorigin)
        assertEquals("[bob.relay]", resolve(c, "bob@mx.example.net", rcpt).nexthop());
        assertEquals("[default.relay]", resolve(c, "bob@elsewhere.example", rcpt).nexthop());
        // no relayhost: the recipient domain
        ConfigSnapshot none = config("sender_dependent_relayhost_maps = inline:{ x@example.net=[x.relay] }");
        assertEquals("remote.example", resolve(none, "y@example.net", rcpt).nexthop());
        assertEquals("[x.relay]", resolve(none, "x@example.net", rcpt).nexthop());
    }

    @Test
    void senderDependentDefaultTransport() throws Exception {
        ConfigSnapshot c = config("relay_domains = example.com", "sender_dependent_default_transport_maps = texthash:"
                + file("sdt", "@example.org slow", "joe@example.org DUNNO", "ann@example.org smtp:[ann.hop]"));
        expect(c, "to@remote.example", DEFAULT, "smtp", "remote.example", "to@remote.example");
        assertEquals(new Resolution(DEFAULT, "slow", "remote.example", "to@remote.example"),
                resolve(c, "x@example.org", "to@remote.example"));
        assertEquals("smtp", resolve(c, "joe@example.org", "to@remote.example").transport());
        assertEquals("[ann.hop]", resolve(c, "ann@example.org", "to@remote.example").nexthop());
        // the relay class keeps relay_transport
        assertEquals("relay", resolve(c, "x@example.org", "to@example.com").transport());
    }

    // ---- transport_maps ----

    private ConfigSnapshot withTransport(String... extra) throws Exception {
        List<String> lines = new ArrayList<>(List.of("relayhost = [rh.example.net]",
                "transport_maps = texthash:" + file("transport",
                        "full@example.com        full:",
                        "user@example.com        userx:[u.example]",
                        "example.com             smtp:[mx.example.com]:2525",
                        ".example.com            sub:",
                        "nexthop.example         :[only-hop.example]",
                        "transport.example       only-transport:",
                        "bare.example            bare",
                        "err.example             error:5.7.1 go away",
                        "err2.example            error:",
                        "noop.example            :",
                        "mx.example.net          lmtp:unix:/run/lmtp")));
        lines.addAll(List.of(extra));
        return config(lines.toArray(String[]::new));
    }

    @Test
    void transportMapsResultForms() throws Exception {
        ConfigSnapshot c = withTransport();
        expect(c, "a@example.com", DEFAULT, "smtp", "[mx.example.com]:2525", "a@example.com");
        expect(c, "full@example.com", DEFAULT, "full", "example.com", "full@example.com");
        // transport:nexthop
        expect(c, "user@example.com", DEFAULT, "userx", "[u.example]", "user@example.com");
        // :nexthop keeps the class's transport
        expect(c, "a@nexthop.example", DEFAULT, "smtp", "[only-hop.example]", "a@nexthop.example");
        // transport: (and a bare transport) reset the next hop to the recipient domain, dropping relayhost
        expect(c, "a@transport.example", DEFAULT, "only-transport", "transport.example", "a@transport.example");
        expect(c, "a@bare.example", DEFAULT, "bare", "bare.example", "a@bare.example");
        // error:text, and error: with the generic text
        expect(c, "a@err.example", DEFAULT, "error", "5.7.1 go away", "a@err.example");
        expect(c, "a@err2.example", DEFAULT, "error", "Address is undeliverable", "a@err2.example");
        // ":" changes nothing
        expect(c, "a@noop.example", DEFAULT, "smtp", "[rh.example.net]", "a@noop.example");
        // not in the table: the class's result
        expect(c, "a@other.example", DEFAULT, "smtp", "[rh.example.net]", "a@other.example");
        // transport_maps applies to the local class too
        expect(c, "a@mx.example.net", LOCAL, "lmtp", "unix:/run/lmtp", "a@mx.example.net");
    }

    @Test
    void transportMapsTryTheAddressWithoutItsExtension() throws Exception {
        expect(withTransport("recipient_delimiter = +"), "user+tag@example.com", DEFAULT, "userx", "[u.example]",
                "user+tag@example.com");
        // without a delimiter the extension stays: the domain entry answers
        expect(withTransport(), "user+tag@example.com", DEFAULT, "smtp", "[mx.example.com]:2525",
                "user+tag@example.com");
        // several delimiters; owner-x and x-request are never split with '-'
        ConfigSnapshot dash = withTransport("recipient_delimiter = +-",
                "transport_maps = inline:{ owner@example.com=o:, list@example.com=l: }");
        assertEquals("smtp", resolve(dash, "", "owner-list@example.com").transport());
        assertEquals("l", resolve(dash, "", "list-x@example.com").transport());
        assertEquals("smtp", resolve(dash, "", "list-request@example.com").transport());
    }

    @Test
    void dotDomainEntriesMatchSubdomainsOnlyAndExactEntriesOnlyThemselves() throws Exception {
        ConfigSnapshot c = withTransport();
        expect(c, "a@b.example.com", DEFAULT, "sub", "b.example.com", "a@b.example.com");
        expect(c, "a@c.b.example.com", DEFAULT, "sub", "c.b.example.com", "a@c.b.example.com");
        // with transport_maps in parent_domain_matches_subdomains, example.com matches its subdomains
        ConfigSnapshot parent = config("parent_domain_matches_subdomains = transport_maps",
                "transport_maps = texthash:" + file("pt", "example.com smtp:[p.example]", ".example.com never:"));
        expect(parent, "a@c.b.example.com", DEFAULT, "smtp", "[p.example]", "a@c.b.example.com");
        ConfigSnapshot exact = config("transport_maps = texthash:" + file("et", "example.com smtp:[p.example]"));
        expect(exact, "a@b.example.com", DEFAULT, "smtp", "b.example.com", "a@b.example.com");
    }

    @Test
    void wildcardIsTheLastResortForEveryClass() throws Exception {
        ConfigSnapshot c = config("transport_maps = texthash:" + file("wt", "* smtp:[wild.example]",
                "special.example local:"));
        expect(c, "a@any.example", DEFAULT, "smtp", "[wild.example]", "a@any.example");
        expect(c, "a@special.example", DEFAULT, "local", "special.example", "a@special.example");
        expect(c, "a@mx.example.net", LOCAL, "smtp", "[wild.example]", "a@mx.example.net");
    }

    @Test
    void patternTablesSeeOnlyTheFullAddress() throws Exception {
        ConfigSnapshot c = config("transport_maps = regexp:" + file("t.re",
                "/^sales@/ crm:[crm.example]",
                "/^example\\.org$/ never:",
                "/@example\\.org$/ org:"));
        expect(c, "sales@x.example", DEFAULT, "crm", "[crm.example]", "sales@x.example");
        expect(c, "a@example.org", DEFAULT, "org", "example.org", "a@example.org");
    }

    @Test
    void relocatedRecipientsBounceWithTheirNewAddress() throws Exception {
        ConfigSnapshot c = config("relocated_maps = inline:{ old@example.com=new@example.org }");
        expect(c, "old@example.com", DEFAULT, "error", "5.1.6 User has moved to new@example.org", "old@example.com");
        expect(c, "other@example.com", DEFAULT, "smtp", "example.com", "other@example.com");
    }

    // ---- canonicalisation ----

    @Test
    void bareNamesGetMyoriginAndTheEmptyAddressBecomesMailerDaemon() throws Exception {
        ConfigSnapshot c = config("myorigin = $mydomain");
        expect(c, "joe", DEFAULT, "smtp", "example.net", "joe@example.net");
        expect(config(), "postmaster", LOCAL, "local", "mx.example.net", "postmaster@mx.example.net");
        expect(c, "", LOCAL, "local", "mx.example.net", "MAILER-DAEMON@mx.example.net");
        expect(config("empty_address_recipient = bounces"), "", LOCAL, "local", "mx.example.net",
                "bounces@mx.example.net");
        // append_at_myorigin = no: resolve itself appends @$myhostname
        expect(config("myorigin = $mydomain", "append_at_myorigin = no"), "joe", LOCAL, "local", "mx.example.net",
                "joe@mx.example.net");
    }

    @Test
    void percentHackAndBangPathAreUndoneInLocalDomainsOnly() throws Exception {
        ConfigSnapshot c = config();
        expect(c, "user%remote.example@mx.example.net", DEFAULT, "smtp", "remote.example", "user@remote.example");
        expect(c, "user%remote.example@localhost", DEFAULT, "smtp", "remote.example", "user@remote.example");
        expect(c, "remote.example!user", DEFAULT, "smtp", "remote.example", "user@remote.example");
        expect(c, "remote.example!user@localhost", DEFAULT, "smtp", "remote.example", "user@remote.example");
        expect(c, "user%other.example@remote.example", DEFAULT, "smtp", "remote.example",
                "user%other.example@remote.example");
        expect(config("allow_percent_hack = no"), "user%remote.example@mx.example.net", LOCAL, "local",
                "mx.example.net", "user%remote.example@mx.example.net");
        expect(config("swap_bangpath = no"), "remote.example!user", LOCAL, "local", "mx.example.net",
                "remote.example!user@mx.example.net");
    }

    @Test
    void trailingDotsNullDomainsAndDottedDomains() throws Exception {
        ConfigSnapshot c = config();
        expect(c, "a@Remote.Example.", DEFAULT, "smtp", "Remote.Example", "a@Remote.Example");
        expect(c, "a@mx.example.net.", LOCAL, "local", "mx.example.net", "a@mx.example.net");
        expect(c, "a@", DEFAULT, "error", "5.1.3 bad address syntax", "a@");
        expect(config("resolve_null_domain = yes"), "a@", LOCAL, "local", "mx.example.net", "a@mx.example.net");
        expect(c, "-opt@remote.example", DEFAULT, "error", "5.1.3 bad address syntax", "-opt@remote.example");
        // below compatibility level 1 Postfix appends .$mydomain to a dotless domain (append_dot_mydomain)
        expect(config("compatibility_level = 0"), "a@host", DEFAULT, "smtp", "host.example.net", "a@host.example.net");
        expect(c, "a@host", DEFAULT, "smtp", "host", "a@host");
    }

    // ---- failures ----

    @Test
    void temporaryTableFailuresDeferNamingTheParameter() throws Exception {
        assertFailure(config("transport_maps = fail:transport"), "a@example.com", "transport_maps lookup failure");
        assertFailure(config("relay_domains = fail:relays"), "a@example.com", "relay_domains lookup failure");
        assertFailure(config("mydestination = fail:dests"), "a@example.com", "mydestination lookup failure");
        assertFailure(config("virtual_alias_domains = fail:va"), "a@example.com",
                "virtual_alias_domains lookup failure");
        assertFailure(config("sender_dependent_relayhost_maps = fail:sdr"), "a@example.com",
                "sender_dependent_relayhost_maps lookup failure");
        // a table type nobody provides, and a file that cannot be opened, are temporary failures too
        assertFailure(config("transport_maps = hash:/etc/postfix/transport"), "a@example.com",
                "transport_maps lookup failure");
        assertFailure(config("transport_maps = texthash:" + dir.resolve("missing")), "a@example.com",
                "transport_maps lookup failure");
        // the failure is seen only when the table has to be asked
        expect(config("relay_domains = fail:relays"), "a@mx.example.net", LOCAL, "local", "mx.example.net",
                "a@mx.example.net");
    }

    private void assertFailure(ConfigSnapshot c, String recipient, String start) {
        ResolutionException e = assertThrows(ResolutionException.class, () -> resolve(c, "s@example.net", recipient));
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }

    @Test
    void aNullTransportIsAConfigurationErrorThatDefers() throws Exception {
        assertFailure(config("default_transport = :[x]"), "a@example.com", "file ");
    }
}
