package org.estafeta.table.simple;

import org.estafeta.table.support.LogicalLines;

import java.util.Locale;

/**
 * The small text routines of Postfix's utility library that the inline: and static: syntaxes are defined by:
 * {@code balpar}, {@code extpar} (with stripping), {@code mystrtokq} and {@code split_qnameval}. Error texts
 * are Postfix's.
 */
final class PostfixText {
    private PostfixText() {
    }

    /** A refused text; the message is Postfix's. */
    static final class SyntaxError extends Exception {
        private static final long serialVersionUID = 1L;

        SyntaxError(String message) {
            super(message, null, false, false);
        }
    }

    /** A {@code key = value} pair as split_qnameval leaves it (a quoted key keeps its quotes). */
    record NameValue(String name, String value) {
    }

    /** Postfix's key folding for its indexed and in-memory tables (DICT_FLAG_FOLD_FIX). */
    static String fold(String key) {
        return key.toLowerCase(Locale.ROOT);
    }

    /** balpar: the length of the balanced {@code {text}} at the start of {@code s}, or 0. */
    static int balpar(String s) {
        if (s.isEmpty() || s.charAt(0) != '{') {
            return 0;
        }
        int level = 1;
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '}') {
                if (--level == 0) {
                    return i + 1;
                }
            } else if (c == '{') {
                level++;
            }
        }
        return 0;
    }

    /** extpar with EXTPAR_FLAG_STRIP: the text inside {@code {...}} without surrounding white space. */
    static String extpar(String s) throws SyntaxError {
        if (s.isEmpty() || s.charAt(0) != '{') {
            throw new SyntaxError("no '{' at start of text in \"" + s + "\"");
        }
        int len = balpar(s);
        if (len == 0) {
            throw new SyntaxError("missing '}' in \"" + s + "\"");
        }
        if (len != s.length()) {
            throw new SyntaxError("syntax error after '}' in \"" + s + "\"");
        }
        return LogicalLines.trimLeading(LogicalLines.trimTrailing(s.substring(1, len - 1)));
    }

    /** split_qnameval: {@code key = value}; the key may be quoted with {@code "} and use backslash escapes. */
    static NameValue splitNameValue(String buf) throws SyntaxError {
        int n = buf.length();
        int key = 0;
        while (key < n && LogicalLines.isSpace(buf.charAt(key))) {
            key++;
        }
        if (key >= n) {
            throw new SyntaxError("no key found; expected format: key = value");
        }
        boolean inQuotes = false;
        int keyEnd = key;
        for (; keyEnd < n; keyEnd++) {
            char c = buf.charAt(keyEnd);
            if (c == '\\') {
                if (++keyEnd >= n) {
                    break;
                }
            } else if (LogicalLines.isSpace(c) || c == '=') {
                if (!inQuotes) {
                    break;
                }
            } else if (c == '"') {
                inQuotes = !inQuotes;
            }
        }
        if (inQuotes) {
            throw new SyntaxError("unbalanced '\"'");
        }
        int value = keyEnd;
        while (value < n && LogicalLines.isSpace(buf.charAt(value))) {
            value++;
        }
        if (value >= n || buf.charAt(value) != '=') {
            throw new SyntaxError("missing '=' after attribute name");
        }
        String name = buf.substring(key, Math.min(keyEnd, n));
        String rest = LogicalLines.trimTrailing(LogicalLines.trimLeading(buf.substring(value + 1)));
        return new NameValue(name, rest);
    }
}
