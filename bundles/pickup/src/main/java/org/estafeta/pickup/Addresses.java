package org.estafeta.pickup;

import java.util.ArrayList;
import java.util.List;

/**
 * The addresses of an RFC 5322 address list, as Postfix's sendmail takes them from a command-line argument or a
 * To/Cc/Bcc header ({@code tok822_parse} and the address tokens of the tree): comments are dropped, a
 * {@code phrase <addr>} gives {@code addr} (a source route is removed), groups give their members, and the
 * address is returned without surrounding white space. Quoted strings keep commas and angle brackets.
 */
public final class Addresses {
    private Addresses() {
    }

    /** The addresses in {@code text}, in order; empty when there are none ({@code undisclosed-recipients:;}). */
    public static List<String> parse(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder plain = new StringBuilder(); // the element outside angle brackets, comments removed
        StringBuilder angle = null; // the text inside <...> of the current element
        String angled = null;
        int depth = 0; // comment nesting
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            StringBuilder target = angle != null ? angle : plain;
            if (quoted) {
                target.append(c);
                if (c == '\\' && i + 1 < text.length()) {
                    target.append(text.charAt(++i));
                } else if (c == '"') {
                    quoted = false;
                }
            } else if (depth > 0) {
                if (c == '\\') {
                    i++;
                } else if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                }
            } else if (c == '(') {
                depth = 1;
            } else if (c == '"') {
                quoted = true;
                target.append(c);
            } else if (c == '<' && angle == null) {
                angle = new StringBuilder();
            } else if (c == '>' && angle != null) {
                angled = angle.toString();
                angle = null;
            } else if (angle != null) {
                target.append(c);
            } else if (c == ':' && angled == null && !plain.toString().contains("@")) {
                plain.setLength(0); // a group's display name
            } else if (c == ',' || c == ';') {
                add(out, plain, angled);
                plain.setLength(0);
                angled = null;
            } else {
                target.append(c);
            }
        }
        if (angle != null) {
            angled = angle.toString();
        }
        add(out, plain, angled);
        return out;
    }

    private static void add(List<String> out, StringBuilder plain, String angled) {
        String a;
        if (angled != null) {
            a = angled.strip();
            int colon = a.indexOf(':');
            if (a.startsWith("@") && colon > 0) {
                a = a.substring(colon + 1).strip(); // source route
            }
            out.add(a); // <> is an (empty) address too
            return;
        }
        a = plain.toString().strip();
        if (!a.isEmpty()) {
            out.add(a.replaceAll("\\s*([@.])\\s*", "$1"));
        }
    }
}
