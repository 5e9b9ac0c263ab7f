package org.estafeta.rewrite.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.Test;

/** Tables are opened once per configuration generation and closed when a newer one takes over. */
class AddressResolverComponentTest {
    private final TestTables tables = new TestTables();
    private final AddressResolverComponent component = new AddressResolverComponent(tables);

    /** A snapshot with every parameter the resolver reads (FakeSnapshot has no defaults). */
    private static FakeSnapshot snapshot(long generation, String transport) {
        return new FakeSnapshot(Map.ofEntries(
                Map.entry("myhostname", "mx.example.net"), Map.entry("mydomain", "example.net"),
                Map.entry("myorigin", "mx.example.net"), Map.entry("mydestination", "mx.example.net"),
                Map.entry("compatibility_level", "3.6"), Map.entry("inet_interfaces", "127.0.0.1"),
                Map.entry("proxy_interfaces", ""), Map.entry("relay_domains", ""),
                Map.entry("parent_domain_matches_subdomains", "relay_domains"),
                Map.entry("virtual_alias_domains", ""), Map.entry("virtual_mailbox_domains", ""),
                Map.entry("local_transport", "local:mx.example.net"), Map.entry("virtual_transport", "virtual"),
                Map.entry("relay_transport", "relay"), Map.entry("default_transport", "smtp"),
                Map.entry("relayhost", ""), Map.entry("transport_maps", transport),
                Map.entry("sender_dependent_relayhost_maps", ""),
                Map.entry("sender_dependent_default_transport_maps", ""), Map.entry("relocated_maps", ""),
                Map.entry("recipient_delimiter", ""), Map.entry("resolve_null_domain", "no"),
                Map.entry("resolve_numeric_domain", "no"), Map.entry("allow_percent_hack", "yes"),
                Map.entry("swap_bangpath", "yes"), Map.entry("empty_address_recipient", "MAILER-DAEMON"),
                Map.entry("smtputf8_enable", "yes")), List.of(), generation);
    }

    @Test
    void tablesAreSharedWithinAGenerationAndClosedWhenANewerOneArrives() throws Exception {
        FakeSnapshot one = snapshot(1, "inline:{ a.example=one: }");
        assertEquals("one", component.resolve(one, "", "x@a.example").transport());
        assertEquals("one", component.resolve(one, "", "y@a.example").transport());
        assertEquals(1, tables.opens.get());
        assertEquals(0, tables.closes.get());

        FakeSnapshot two = snapshot(2, "inline:{ a.example=two: }");
        assertEquals("two", component.resolve(two, "", "x@a.example").transport());
        assertEquals(2, tables.opens.get());
        assertEquals(1, tables.closes.get()); // generation 1's handle

        // a delivery that still holds generation 1 gets its own tables, closed after its resolve
        assertEquals("one", component.resolve(one, "", "x@a.example").transport());
        assertEquals(3, tables.opens.get());
        assertEquals(2, tables.closes.get());
        assertEquals(1, component.currentTables().openCount());

        component.deactivate();
        assertEquals(3, tables.closes.get());
    }
}
