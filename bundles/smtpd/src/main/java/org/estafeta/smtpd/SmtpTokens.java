package org.estafeta.smtpd;

import java.util.ArrayList;
import java.util.List;

/**
 * Postfix's smtpd_token(): splits a command line on white space, keeping {@code <...>} and {@code "..."} together
 * (nested quotes and backslash escapes included), and ending a token after {@code to:} or {@code from:} so that
 * {@code MAIL FROM:<a@b>} gives {@code MAIL}, {@code FROM:}, {@code <a@b>}. An unclosed quote makes its token an
 * error token.
 */
final class SmtpTokens {
    /** One token; {@code error} when a quote or bracket was not closed. */
    record Token(String text, boolean error) {
    }

    private SmtpTokens() {
    }

    static List<Token> split(String line) {
        List<Token> tokens = new ArrayList<>();
        int[] pos = {0};
        while (true) {
            Token t = next(line, pos);
            if (t == null) {
                return tokens;
            }
            tokens.add(t);
        }
    }

    private static boolean space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x0b || c == '\f';
    }

    private static Token next(String s, int[] pos) {
        StringBuilder sb = new StringBuilder();
        boolean error = false;
        int i = pos[0];
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i++);
            if (space(c)) {
                while (i < n && space(s.charAt(i))) {
                    i++;
                }
                if (sb.length() > 0) {
                    break;
                }
            } else if (c == '<') {
                int[] r = quoted(s, i, sb, '<', '>');
                i = r[0];
                error |= r[1] != 0;
            } else if (c == '"') {
                int[] r = quoted(s, i, sb, '"', '"');
                i = r[0];
                error |= r[1] != 0;
            } else if (c == ':') {
                sb.append(c);
                String t = sb.toString();
                if (t.equalsIgnoreCase("to:") || t.equalsIgnoreCase("from:")) {
                    break;
                }
            } else {
                if (c == '\\') {
                    sb.append(c);
                    if (i >= n) {
                        break;
                    }
                    c = s.charAt(i++);
                }
                sb.append(c);
            }
        }
        pos[0] = i;
        return sb.length() == 0 ? null : new Token(sb.toString(), error);
    }

    /** Postfix's smtp_quoted(): returns {end index, 1 if the closing quote is missing}. */
    private static int[] quoted(String s, int i, StringBuilder sb, char start, char last) {
        StringBuilder stack = new StringBuilder();
        char wanted = last;
        stack.append(wanted);
        sb.append(start);
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i++);
            sb.append(c);
            if (c == '\\') {
                if (i >= n) {
                    break;
                }
                sb.append(s.charAt(i++));
            } else if (c == wanted) {
                if (stack.length() == 1) {
                    return new int[] {i, 0};
                }
                stack.setLength(stack.length() - 1);
                wanted = stack.charAt(stack.length() - 1);
            } else if (c == '"') {
                stack.append(wanted = '"');
            } else if (c == '<' && wanted == '>') {
                stack.append(wanted = '>');
            }
        }
        return new int[] {i, 1};
    }
}
