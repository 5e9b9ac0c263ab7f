package org.estafeta.transport.local.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits an alias value or a line of a {@code .forward} or {@code :include:} file into its targets, as Postfix's
 * tok822 parser sees them for delivery: separated by commas outside double quotes, a quoted target unquoted
 * ({@code "|/usr/bin/vacation ana"} is one command), {@code <address>} without its brackets, parenthesised comments
 * dropped.
 */
final class Tokens {
    private Tokens() {
    }

    static List<String> split(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        int comment = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && quoted && i + 1 < value.length()) {
                cur.append(value.charAt(++i));
            } else if (c == '"' && comment == 0) {
                quoted = !quoted;
            } else if (c == '(' && !quoted) {
                comment++;
            } else if (c == ')' && !quoted && comment > 0) {
                comment--;
            } else if (comment > 0) {
                continue;
            } else if (c == ',' && !quoted) {
                add(out, cur);
            } else {
                cur.append(c);
            }
        }
        add(out, cur);
        return out;
    }

    private static void add(List<String> out, StringBuilder cur) {
        String t = cur.toString().strip();
        cur.setLength(0);
        if (t.startsWith("<") && t.endsWith(">")) {
            t = t.substring(1, t.length() - 1).strip();
        }
        if (!t.isEmpty()) {
            out.add(t);
        }
    }
}
