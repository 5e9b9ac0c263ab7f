package org.estafeta.transport.local.internal;

import java.util.Map;

/**
 * Postfix's {@code $name} expansion for {@code forward_path} and {@code mailbox_command}: {@code $name},
 * {@code ${name}}, {@code $(name)}, {@code ${name?text}} (text when the name has a value), {@code ${name:text}} (text
 * when it has none) and {@code $$}.
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
            if (n == '$') {
                out.append('$');
                i += 2;
                continue;
            } else if (n == '{' || n == '(') {
                int end = template.indexOf(n == '{' ? '}' : ')', i + 2);
                if (end < 0) {
                    return null;
                }
                String inner = template.substring(i + 2, end);
                int q = indexOfOp(inner);
                name = q < 0 ? inner : inner.substring(0, q);
                if (q >= 0) {
                    op = inner.substring(q, q + 1);
                    text = inner.substring(q + 1);
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
            if ("?".equals(op)) {
                out.append(has ? text : "");
            } else if (":".equals(op)) {
                out.append(has ? "" : text);
            } else if (has) {
                out.append(v);
            } else if (!undefinedEmpty) {
                return null;
            }
        }
        return out.toString();
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
