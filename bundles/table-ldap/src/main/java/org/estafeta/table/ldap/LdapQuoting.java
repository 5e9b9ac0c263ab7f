package org.estafeta.table.ldap;

import java.nio.charset.StandardCharsets;

/**
 * Quoting of lookup keys before they enter LDAP syntax, so that no key can change the meaning of a search:
 * {@link #filterValue} for query_filter (RFC 4515: {@code * ( ) \} and NUL become {@code \2A \28 \29 \5C \00}),
 * {@link #dnValue} for search_base (RFC 4514: blank, tab, NUL and {@code " # + , ; < > \} become {@code \XX}).
 * These are the characters Postfix quotes (its rfc2254_quote and rfc2253_quote), plus NUL, which a C string
 * cannot hold but a Java string can. Stateless.
 */
final class LdapQuoting {
    private static final String HEX = "0123456789ABCDEF";

    private LdapQuoting() {
    }

    /** The key as an assertion value inside a filter: it can match only itself, never widen the filter. */
    static String filterValue(String s) {
        return escape(s, "*()\\\0");
    }

    /** The key as an attribute value inside a DN: it cannot add RDNs or change the base. */
    static String dnValue(String s) {
        return escape(s, " \t\"#+,;<>\\\0");
    }

    private static String escape(String s, String special) {
        StringBuilder out = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (special.indexOf(c) >= 0) {
                for (byte b : String.valueOf(c).getBytes(StandardCharsets.UTF_8)) {
                    out.append('\\').append(HEX.charAt((b >> 4) & 0xf)).append(HEX.charAt(b & 0xf));
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
