package org.estafeta.tables.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.Test;

class TableReferencesTest {

    @Test
    void reportsMissingTypeInMapsNamingParameterAndProperty() {
        var snap = new FakeSnapshot(Map.of("transport_maps", "json:/etc/estafeta/transport.json"));
        assertEquals(List.of("main.cf: transport_maps: unsupported dictionary type: json: "
                + "no installed bundle registers estafeta.table.type=json"),
                TableReferences.problems(snap, t -> false));
        assertEquals(List.of(), TableReferences.problems(snap, "json"::equals));
    }

    @Test
    void checksOnlyTableParametersAndAccessArguments() {
        var snap = new FakeSnapshot(Map.of(
                "virtual_alias_maps", "hash:/etc/virtual, regexp:/etc/virtual.re",
                "header_checks", "pcre:/etc/header_checks",
                "smtpd_recipient_restrictions",
                "permit_mynetworks, check_recipient_access cidr:/etc/access, check_policy_service unix:private/policy,"
                        + " reject_unauth_destination",
                "relayhost", "[mail.example.com]:587",
                "mydestination", "ldap:/etc/not-a-table-parameter"));
        var refs = TableReferences.references(snap);
        assertEquals(Set.of("hash", "regexp", "pcre", "cidr"),
                Set.copyOf(refs.stream().map(TableReferences.Reference::type).toList()));
        assertEquals(List.of("main.cf: smtpd_recipient_restrictions: unsupported dictionary type: cidr: "
                + "no installed bundle registers estafeta.table.type=cidr"),
                TableReferences.problems(snap, t -> !t.equals("cidr")));
    }

    @Test
    void restrictionClassesAreRestrictionLists() {
        var snap = new FakeSnapshot(Map.of(
                "smtpd_restriction_classes", "from_freemail_host",
                "from_freemail_host", "check_helo_access json:/etc/freemail, reject",
                "other_param", "check_helo_access json:/not/a/class"));
        var problems = TableReferences.problems(snap, t -> false);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("main.cf: from_freemail_host: unsupported dictionary type: json"));
    }

    @Test
    void masterCfOverridesAreChecked() {
        var entry = FakeSnapshot.entry("submission", "inet", "smtpd",
                Map.of("smtpd_client_restrictions", "check_client_access json:/etc/clients, permit"));
        var snap = new FakeSnapshot(Map.of(), List.of(entry), 1);
        assertEquals(List.of("master.cf: submission/inet: -o smtpd_client_restrictions: unsupported dictionary "
                + "type: json: no installed bundle registers estafeta.table.type=json"),
                TableReferences.problems(snap, t -> false));
    }

    @Test
    void duplicatesAreReportedOnce() {
        var snap = new FakeSnapshot(Map.of("transport_maps", "json:/a json:/b"));
        assertEquals(1, TableReferences.problems(snap, t -> false).size());
    }

    @Test
    void tokensKeepBracesTogether() {
        assertEquals(List.of("inline:{ a=b, c=d }", "hash:/x"), TableReferences.tokens("inline:{ a=b, c=d },hash:/x"));
        assertEquals(List.of("a", "b", "c"), TableReferences.tokens("  a ,b\n\tc "));
    }

    @Test
    void accessCheckNames() {
        assertTrue(TableReferences.isAccessCheck("check_sender_access"));
        assertTrue(TableReferences.isAccessCheck("check_reverse_client_hostname_access"));
        assertFalse(TableReferences.isAccessCheck("check_policy_service"));
        assertFalse(TableReferences.isAccessCheck("check__access"));
    }
}
