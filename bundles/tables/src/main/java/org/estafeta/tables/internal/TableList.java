package org.estafeta.tables.internal;

import java.util.List;
import java.util.Optional;

/**
 * The table list of {@code unionmap:{type:name, ...}} and {@code pipemap:{type:name, ...}}, split as Postfix's
 * dict_union.c and dict_pipe.c split it: the name must be one balanced {@code {...}} (balpar) with nothing after
 * it, and the text inside is cut at commas and white space outside nested braces (argv_splitq), so that
 * {@code inline:{a=1, b=2}} and a nested {@code unionmap:{...}} stay one element. Elements keep their braces:
 * {@code {inline:{a=1}}} is an element whose type is {@code {inline}, as in Postfix. Every element must hold a
 * {@code :}. Pure functions; safe from any thread.
 */
public final class TableList {
    private TableList() {
    }

    /**
     * The elements of {@code name} (the text after {@code unionmap:} or {@code pipemap:}), or empty when Postfix
     * would refuse the syntax (then the error is {@link #syntaxError}).
     */
    public static Optional<List<String>> parse(String name) {
        int len = balpar(name);
        if (len == 0 || len != name.length() || len == 2) {
            return Optional.empty();
        }
        List<String> elements = org.estafeta.table.support.PostfixTokens.split(name.substring(1, len - 1));
        if (elements.isEmpty()) {
            return Optional.empty();
        }
        for (String e : elements) {
            if (e.indexOf(':') < 0) {
                return Optional.empty();
            }
        }
        return Optional.of(elements);
    }

    /** Postfix's text for a refused list: {@code bad syntax: "unionmap:x"; need "unionmap:{type:name...}"}. */
    public static String syntaxError(String type, String name) {
        return "bad syntax: \"" + type + ":" + name + "\"; need \"" + type + ":{type:name...}\"";
    }

    /** balpar with {@code {}}: the length of the balanced group at the start of {@code s}, or 0. */
    static int balpar(String s) {
        if (s.isEmpty() || s.charAt(0) != '{') {
            return 0;
        }
        int level = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{') {
                level++;
            } else if (c == '}' && --level == 0) {
                return i + 1;
            }
        }
        return 0;
    }

}
