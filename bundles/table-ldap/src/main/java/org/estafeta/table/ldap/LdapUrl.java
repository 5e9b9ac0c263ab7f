package org.estafeta.table.ldap;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.naming.directory.SearchControls;

/**
 * An RFC 4516 LDAP URL found in a special result attribute ({@code ldap://host/dn?attributes?scope?filter}), as
 * Postfix follows it: the search runs on the table's own connection (the host part is ignored), with the URL's
 * base, scope (default {@code base}) and filter (default {@code (objectClass=*)}), asking only for the URL's
 * attributes that are also result attributes of the table. Immutable.
 */
record LdapUrl(String dn, List<String> attributes, int scope, String filter) {
    /** What {@link #parse} returns for a value that starts like a URL but is not a valid one. */
    static final LdapUrl MALFORMED = new LdapUrl("", List.of(), 0, "");

    /** The URL, null when {@code value} is no LDAP URL (a DN, then), or {@link #MALFORMED}. */
    static LdapUrl parse(String value) {
        String v = value.strip();
        if (v.startsWith("<") && v.endsWith(">")) {
            v = v.substring(1, v.length() - 1);
        }
        if (v.regionMatches(true, 0, "URL:", 0, 4)) {
            v = v.substring(4);
        }
        String lower = v.toLowerCase(Locale.ROOT);
        int start;
        if (lower.startsWith("ldap://")) {
            start = 7;
        } else if (lower.startsWith("ldaps://") || lower.startsWith("ldapi://")) {
            start = 8;
        } else {
            return null;
        }
        int slash = v.indexOf('/', start);
        if (slash < 0) {
            return new LdapUrl("", List.of(), SearchControls.OBJECT_SCOPE, "(objectClass=*)");
        }
        String[] parts = v.substring(slash + 1).split("\\?", -1);
        try {
            String dn = decode(parts[0]);
            List<String> attrs = new ArrayList<>();
            if (parts.length > 1) {
                for (String a : parts[1].split(",")) {
                    if (!a.isEmpty()) {
                        attrs.add(decode(a));
                    }
                }
            }
            int scope = SearchControls.OBJECT_SCOPE;
            if (parts.length > 2 && !parts[2].isEmpty()) {
                scope = switch (parts[2].toLowerCase(Locale.ROOT)) {
                    case "base" -> SearchControls.OBJECT_SCOPE;
                    case "one" -> SearchControls.ONELEVEL_SCOPE;
                    case "sub" -> SearchControls.SUBTREE_SCOPE;
                    default -> throw new IllegalArgumentException("bad scope");
                };
            }
            String filter = parts.length > 3 && !parts[3].isEmpty() ? decode(parts[3]) : "(objectClass=*)";
            if (parts.length > 5) {
                throw new IllegalArgumentException("too many parts");
            }
            return new LdapUrl(dn, List.copyOf(attrs), scope, filter);
        } catch (IllegalArgumentException e) {
            return MALFORMED;
        }
    }

    /**
     * Postfix's url_attrs(): all of the table's attributes when the URL names none; otherwise those the URL also
     * names (the more specific description when one is a subtype of the other); null when none is left.
     */
    String[] attributesFor(String[] tableAttributes) {
        if (attributes.isEmpty()) {
            return tableAttributes;
        }
        List<String> out = new ArrayList<>();
        for (String a1 : attributes) {
            for (String a2 : tableAttributes) {
                if (LdapTable.isSubtype(a1, a2)) {
                    out.add(a2);
                } else if (LdapTable.isSubtype(a2, a1)) {
                    out.add(a1);
                }
            }
        }
        return out.isEmpty() ? null : out.toArray(String[]::new);
    }

    private static String decode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("bad escape");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad escape");
                }
                out.write(hi * 16 + lo);
                i += 2;
            } else {
                int cp = s.codePointAt(i);
                byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                i += Character.charCount(cp) - 1;
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
