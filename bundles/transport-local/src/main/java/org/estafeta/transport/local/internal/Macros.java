package org.estafeta.transport.local.internal;

import java.util.Map;

/**
 * Postfix's {@code $name} expansion for {@code forward_path}, {@code mailbox_command} and {@code luser_relay}:
 * {@code $name}, {@code ${name}}, {@code $(name)}, {@code ${name?text}} (text when the name has a value),
 * {@code ${name:text}} (text when it has none), Postfix 3.0's {@code ${name?{text}}}, {@code ${name:{text}}} and
 * {@code ${name?{text1}:{text2}}}, and {@code $$}. The text of a conditional is expanded in turn.
 */
final class Macros {
    private Macros() {
    }

    /**
     * @param undefinedEmpty true: a name without a value expands to nothing; false: the whole result is null (a
     *        {@code forward_path} element naming an undefined attribute is skipped)
     */
    static String expand(String template, Map<String, String> values, boolean undefinedEmpty) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < template.length()) {
            char c = template.charAt(i);
            if (c != '$' || i + 1 >= template.length()) {
                out.append(c);
                i++;
                continue;
            }
            char n = template.charAt(i + 1);
            String name;
            String op = null;
            String text = null;
            String otherwise = null;
            if (n == '$') {
                out.append('$');
                i += 2;
                continue;
            } else if (n == '{' || n == '(') {
                int end = closing(template, i + 1);
                if (end < 0) {
                    return null;
                }
                String inner = template.substring(i + 2, end);
                int q = indexOfOp(inner);
                name = q < 0 ? inner : inner.substring(0, q);
                if (q >= 0) {
                    op = inner.substring(q, q + 1);
                    text = inner.substring(q + 1);
                    // Postfix 3.0: ${name?{value}}, ${name:{value}}, ${name?{value1}:{value2}}
                    if (text.startsWith("{")) {
                        int close = closing(text, 0);
                        if (close < 0) {
                            return null;
                        }
                        String rest = text.substring(close + 1).strip();
                        String first = text.substring(1, close);
                        if ("?".equals(op) && rest.startsWith(":{") && rest.endsWith("}")
                                && closing(rest, 1) == rest.length() - 1) {
                            otherwise = rest.substring(2, rest.length() - 1);
                        } else if (!rest.isEmpty()) {
                            return null;
                        }
                        text = first;
                    }
                }
                i = end + 1;
            } else {
                int j = i + 1;
                while (j < template.length()
                        && (Character.isLetterOrDigit(template.charAt(j)) || template.charAt(j) == '_')) {
                    j++;
                }
                name = template.substring(i + 1, j);
                i = j;
            }
            String v = values.get(name);
            boolean has = v != null && !v.isEmpty();
            String chosen = null;
            if ("?".equals(op)) {
                chosen = has ? text : otherwise;
            } else if (":".equals(op)) {
                chosen = has ? null : text;
            } else if (has) {
                out.append(v);
            } else if (!undefinedEmpty) {
                return null;
            }
            if (chosen != null) {
                // the text of a conditional is itself expanded, as Postfix's mac_expand() does
                String e = expand(chosen, values, undefinedEmpty);
                if (e == null) {
                    return null;
                }
                out.append(e);
            }
        }
        return out.toString();
    }

    /** The index of the bracket that closes the one at {@code open}, nested pairs counted; -1 for none. */
    private static int closing(String s, int open) {
        char o = s.charAt(open);
        char c = o == '(' ? ')' : '}';
        int depth = 0;
        for (int k = open; k < s.length(); k++) {
            if (s.charAt(k) == o) {
                depth++;
            } else if (s.charAt(k) == c && --depth == 0) {
                return k;
            }
        }
        return -1;
    }

    private static int indexOfOp(String inner) {
        for (int k = 0; k < inner.length(); k++) {
            if (inner.charAt(k) == '?' || inner.charAt(k) == ':') {
                return k;
            }
        }
        return -1;
    }
}
