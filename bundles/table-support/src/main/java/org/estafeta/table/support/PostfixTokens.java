package org.estafeta.table.support;

import java.util.ArrayList;
import java.util.List;

/**
 * Postfix's mystrtokq / argv_splitq with the separators {@code ", \t\r\n"} and {@code {}} grouping: the elements of a
 * table list ({@code unionmap:{a, b}}, {@code inline:{ k=v, {k2 = v2} }}, an SQL table's {@code domain = ...}), a
 * {@code {...}} group staying one element with its braces.
 */
public final class PostfixTokens {
    private PostfixTokens() {
    }

    /** The elements of {@code s}, in order; empty elements do not occur (separators run together). */
    public static List<String> split(String s) {
        List<String> out = new ArrayList<>();
        int n = s.length();
        int i = 0;
        while (i < n) {
            while (i < n && isSeparator(s.charAt(i))) {
                i++;
            }
            if (i >= n) {
                break;
            }
            int start = i;
            int level = 0;
            for (; i < n; i++) {
                char c = s.charAt(i);
                if (c == '{') {
                    level++;
                } else if (c == '}' && level > 0) {
                    level--;
                } else if (level == 0 && isSeparator(c)) {
                    break;
                }
            }
            out.add(s.substring(start, i));
        }
        return out;
    }

    private static boolean isSeparator(char c) {
        return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }
}
