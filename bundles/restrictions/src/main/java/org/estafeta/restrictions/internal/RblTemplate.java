package org.estafeta.restrictions.internal;

import java.util.function.Function;

/**
 * The {@code $name} expansion Postfix's smtpd applies to {@code default_rbl_reply} (mac_expand with a lookup
 * function): {@code $name}, {@code ${name}}, {@code ${name?text}}, {@code ${name:text}},
 * {@code ${name?{text}:{text}}}; the text of a conditional is itself expanded; {@code $$} is a dollar.
 */
final class RblTemplate {
    private RblTemplate() {
    }

    /** Expands {@code template}; {@code lookup} returns null for an undefined name. Throws on bad syntax. */
    static String expand(String template, Function<String, String> lookup) {
        StringBuilder out = new StringBuilder();
        int n = template.length();
        int i = 0;
        while (i < n) {
            char c = template.charAt(i);
            if (c != '$') {
                out.append(c);
                i++;
                continue;
            }
            if (i + 1 < n && template.charAt(i + 1) == '$') {
                out.append('$');
                i += 2;
                continue;
            }
            i++;
            if (i < n && (template.charAt(i) == '{' || template.charAt(i) == '(')) {
                char open = template.charAt(i);
                char close = open == '{' ? '}' : ')';
                int level = 1;
                int j = i + 1;
                while (j < n && level > 0) {
                    char d = template.charAt(j);
                    if (d == open) {
                        level++;
                    } else if (d == close) {
                        level--;
                    }
                    j++;
                }
                if (level != 0) {
                    throw new IllegalArgumentException("truncated macro reference: \"" + template + "\"");
                }
                out.append(expression(template.substring(i + 1, j - 1), lookup));
                i = j;
            } else {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(template.charAt(j)) || template.charAt(j) == '_')) {
                    j++;
                }
                if (j == i) {
                    throw new IllegalArgumentException("empty macro name: \"" + template + "\"");
                }
                String v = lookup.apply(template.substring(i, j));
                out.append(v == null ? "" : v);
                i = j;
            }
        }
        return out.toString();
    }

    private static String expression(String expr, Function<String, String> lookup) {
        int j = 0;
        while (j < expr.length() && (Character.isLetterOrDigit(expr.charAt(j)) || expr.charAt(j) == '_')) {
            j++;
        }
        String name = expr.substring(0, j);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty macro name: \"" + expr + "\"");
        }
        String value = lookup.apply(name);
        boolean nonEmpty = value != null && !value.isEmpty();
        if (j == expr.length()) {
            return value == null ? "" : value;
        }
        char op = expr.charAt(j);
        String rest = expr.substring(j + 1);
        if (op == '?') {
            String[] branches = branches(rest);
            return nonEmpty ? expand(branches[0], lookup) : branches[1] == null ? "" : expand(branches[1], lookup);
        }
        if (op == ':') {
            return nonEmpty ? "" : expand(unbrace(rest), lookup);
        }
        throw new IllegalArgumentException("attribute name syntax error: \"" + expr + "\"");
    }

    private static String[] branches(String rest) {
        String r = rest.strip();
        if (r.startsWith("{")) {
            int level = 0;
            for (int k = 0; k < r.length(); k++) {
                char c = r.charAt(k);
                if (c == '{') {
                    level++;
                } else if (c == '}' && --level == 0) {
                    String first = r.substring(1, k);
                    String after = r.substring(k + 1).strip();
                    if (after.isEmpty()) {
                        return new String[] {first, null};
                    }
                    if (after.charAt(0) != ':') {
                        throw new IllegalArgumentException("\":\" expected: \"" + rest + "\"");
                    }
                    return new String[] {first, unbrace(after.substring(1))};
                }
            }
        }
        return new String[] {rest, null};
    }

    private static String unbrace(String s) {
        String t = s.strip();
        return t.startsWith("{") && t.endsWith("}") ? t.substring(1, t.length() - 1) : s;
    }
}
