package org.estafeta.sample.jsontable;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the one JSON shape a lookup table needs: a single object whose values are strings, numbers or booleans,
 * for example {@code {"example.com": "smtp:[relay.example.com]", "example.org": "error:no mail here"}}.
 * Nested objects, arrays and null are refused with the line they start on, so that an operator sees at once
 * why the table does not load.
 */
final class FlatJson {
    private final String text;
    private int pos;
    private int line = 1;

    private FlatJson(String text) {
        this.text = text;
    }

    /** Parses {@code text}; throws {@link IllegalArgumentException} whose message starts with {@code line N: }. */
    static Map<String, String> parse(String text) {
        return new FlatJson(text).object();
    }

    private Map<String, String> object() {
        Map<String, String> entries = new LinkedHashMap<>();
        skipSpace();
        expect('{');
        skipSpace();
        if (peek() == '}') {
            pos++;
        } else {
            while (true) {
                skipSpace();
                int keyLine = line;
                String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                String value = scalar();
                if (entries.putIfAbsent(key, value) != null) {
                    throw error(keyLine, "duplicate key \"" + key + "\"");
                }
                skipSpace();
                char c = next("',' or '}'");
                if (c == '}') {
                    break;
                }
                if (c != ',') {
                    throw error(line, "expected ',' or '}' but found '" + c + "'");
                }
            }
        }
        skipSpace();
        if (pos < text.length()) {
            throw error(line, "unexpected text after the closing '}'");
        }
        return entries;
    }

    private String scalar() {
        char c = peek();
        if (c == '"') {
            return string();
        }
        if (c == '{' || c == '[') {
            throw error(line, "values must be strings, numbers or booleans, not " + (c == '{' ? "objects" : "arrays"));
        }
        int start = pos;
        while (pos < text.length() && "-+.eE0123456789truefalsn".indexOf(text.charAt(pos)) >= 0) {
            pos++;
        }
        String word = text.substring(start, pos);
        if (word.equals("true") || word.equals("false") || word.matches("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][-+]?\\d+)?")) {
            return word;
        }
        if (word.equals("null")) {
            throw error(line, "null is not a table value; leave the key out instead");
        }
        throw error(line, "expected a value but found '" + (pos < text.length() ? text.charAt(pos) : word) + "'");
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            char c = next("the closing '\"'");
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\n') {
                throw error(line - 1, "unterminated string");
            }
            if (c < 0x20) {
                throw error(line, "control character in string");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = next("an escape");
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) {
                        throw error(line, "truncated \\u escape");
                    }
                    try {
                        sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw error(line, "bad \\u escape");
                    }
                    pos += 4;
                }
                default -> throw error(line, "bad escape \\" + e);
            }
        }
    }

    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '\n') {
                line++;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private char peek() {
        if (pos >= text.length()) {
            throw error(line, "unexpected end of file");
        }
        return text.charAt(pos);
    }

    private char next(String wanted) {
        if (pos >= text.length()) {
            throw error(line, "unexpected end of file, expected " + wanted);
        }
        char c = text.charAt(pos++);
        if (c == '\n') {
            line++;
        }
        return c;
    }

    private void expect(char wanted) {
        char c = next("'" + wanted + "'");
        if (c != wanted) {
            throw error(line, "expected '" + wanted + "' but found '" + c + "'");
        }
    }

    private static IllegalArgumentException error(int line, String message) {
        return new IllegalArgumentException("line " + line + ": " + message);
    }
}
