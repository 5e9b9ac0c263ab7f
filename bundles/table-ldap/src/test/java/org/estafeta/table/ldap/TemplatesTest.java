package org.estafeta.table.ldap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;

/** db_common's expansions and the quoting, without a server. */
class TemplatesTest {
    final List<String> warnings = new ArrayList<>();

    private String query(String format, String key) {
        Templates t = new Templates("ldap:/t.cf");
        t.parse("query_filter", format, true);
        return t.expandQuery(format, key, UnaryOperator.identity(), warnings::add);
    }

    @Test
    void keyParts() {
        assertEquals("(mail=user@mail.example.com)", query("(mail=%s)", "user@mail.example.com"));
        assertEquals("user mail.example.com com example mail 100%",
                query("%u %d %1 %2 %3 100%%", "user@mail.example.com"));
        assertEquals("u2", query("%u", "u2"), "%u is the whole key when it has no domain");
        assertEquals("a@b", query("%u", "a@b@c"), "the domain starts after the last @");
    }

    @Test
    void keysThatCannotFillTheTemplateAreNotSearched() {
        assertNull(query("%d", "user"));
        assertNull(query("%d", "user@"));
        assertNull(query("%u", "@example.com"));
        assertNull(query("%3", "user@example.com"));
        assertNull(query("%2", "user@com"));
        assertNull(query("%s", ""));
        assertEquals(List.of("table \"ldap:/t.cf\": empty query string -- ignored"), warnings);
    }

    @Test
    void requirementsAreSharedByAllTemplates() {
        Templates t = new Templates("ldap:/t.cf");
        t.parse("search_base", "dc=example", true);
        t.parse("query_filter", "(mail=%s)", true);
        t.parse("result_format", "%s via %D", false);
        assertNull(t.expandQuery("(mail=%s)", "user", UnaryOperator.identity(), warnings::add),
                "%D in result_format keeps keys without a domain from being searched");
        StringBuilder result = new StringBuilder();
        t.appendResult(result, "%s via %D", "a@x", "user@example.com", warnings::add);
        t.appendResult(result, "%s via %D", "b", "user@example.com", warnings::add);
        assertEquals("a@x via example.com,b via example.com", result.toString());
    }

    @Test
    void resultValueParts() {
        Templates t = new Templates("ldap:/t.cf");
        t.parse("result_format", "smtp:[%d]", false);
        StringBuilder result = new StringBuilder();
        t.appendResult(result, "smtp:[%d]", "unqualified", "k", warnings::add);
        t.appendResult(result, "smtp:[%d]", "u@relay.example.com", "k", warnings::add);
        t.appendResult(result, "smtp:[%d]", "", "k", warnings::add);
        assertEquals("smtp:[relay.example.com]", result.toString());
        assertEquals(List.of("table \"ldap:/t.cf\": empty lookup result for: \"k\" -- ignored"), warnings);
    }

    @Test
    void badTemplates() {
        Templates t = new Templates("ldap:/t.cf");
        assertThrows(IllegalArgumentException.class, () -> t.parse("query_filter", "(mail=%x)", true));
        assertThrows(IllegalArgumentException.class, () -> t.parse("query_filter", "(mail=%", true));
    }

    @Test
    void quoting() {
        assertEquals("\\2A\\28\\29\\5C\\00x", LdapQuoting.filterValue("*()\\\0x"));
        assertEquals("a\\20b\\2Cc=d\\2B\\3B\\3C\\3E\\22\\23\\5C", LdapQuoting.dnValue("a b,c=d+;<>\"#\\"));
        assertEquals("caf\u00e9", LdapQuoting.filterValue("caf\u00e9"), "UTF-8 stays as it is");
    }
}
