package org.estafeta.table.regexp;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Translates a POSIX regular expression, as glibc's {@code regcomp()} reads it for Postfix's {@code regexp:} tables,
 * into a {@link java.util.regex.Pattern} source. Extended syntax (ERE, the default) and basic syntax (BRE, the
 * {@code x} flag) are both read, with glibc's GNU extensions: {@code \1}…{@code \9} back references,
 * {@code \w \W \s \S \b \B \< \> \` \'}, and in BRE {@code \+ \? \|}.
 *
 * <p>Bracket expressions follow POSIX, not Java: a backslash inside {@code [...]} is an ordinary character, a
 * {@code ]} first in the list is literal, {@code [:class:]}, {@code [.c.]} and {@code [=c=]} are understood.
 * Every literal character is escaped, so Java's own class syntax ({@code &&}, nested {@code [}) never applies.
 *
 * <p>Errors are {@link IllegalArgumentException}s with glibc's {@code regerror()} texts.
 */
final class PosixRegex {
    private final String re;
    private final boolean extended;
    private final boolean newline;
    private final boolean icase;
    private final StringBuilder out = new StringBuilder();
    private int pos;
    /** Start in {@link #out} of the last quantifiable atom, or -1 when a quantifier here has nothing to repeat. */
    private int atomStart = -1;
    private boolean lastWasQuantifier;
    private int openedGroups;
    private int closedGroups;
    private final Deque<Integer> groupStarts = new ArrayDeque<>();

    private PosixRegex(String re, boolean extended, boolean newline, boolean icase) {
        this.re = re;
        this.extended = extended;
        this.newline = newline;
        this.icase = icase;
    }

    /**
     * @param extended ERE ({@code REG_EXTENDED}) rather than BRE
     * @param newline  {@code REG_NEWLINE}: {@code .} and {@code [^...]} do not match a newline, {@code ^} and
     *                 {@code $} match at line boundaries (the caller also sets {@code MULTILINE})
     * @param icase    {@code REG_ICASE}: glibc then reads {@code [:upper:]} and {@code [:lower:]} as {@code [:alpha:]}
     */
    static String translate(String re, boolean extended, boolean newline, boolean icase) {
        PosixRegex t = new PosixRegex(re, extended, newline, icase);
        t.run();
        return t.out.toString();
    }

    /** How many capturing groups the translation has (the {@code re_nsub} of {@code regcomp()}). */
    static int groupCount(String re, boolean extended) {
        PosixRegex t = new PosixRegex(re, extended, false, false);
        t.run();
        return t.openedGroups;
    }

    private void run() {
        while (pos < re.length()) {
            char c = re.charAt(pos++);
            switch (c) {
                case '\\' -> escape();
                case '[' -> {
                    int start = out.length();
                    bracket();
                    atom(start);
                }
                case '.' -> {
                    int start = out.length();
                    out.append(newline ? "[^\\n]" : "(?s:.)");
                    atom(start);
                }
                case '*' -> {
                    if (!extended && atomStart < 0) {
                        literal(c);
                    } else {
                        quantifier("*");
                    }
                }
                case '+', '?' -> {
                    if (extended) {
                        quantifier(String.valueOf(c));
                    } else {
                        literal(c);
                    }
                }
                case '{' -> {
                    if (extended) {
                        interval();
                    } else {
                        literal(c);
                    }
                }
                case '(' -> {
                    if (extended) {
                        openGroup();
                    } else {
                        literal(c);
                    }
                }
                case ')' -> {
                    if (extended && !groupStarts.isEmpty()) {
                        closeGroup();
                    } else {
                        literal(c);
                    }
                }
                case '|' -> {
                    if (extended) {
                        alternation();
                    } else {
                        literal(c);
                    }
                }
                case '^' -> {
                    if (extended || atContextStart()) {
                        out.append('^');
                        noAtom();
                    } else {
                        literal(c);
                    }
                }
                case '$' -> {
                    if (extended || atContextEnd()) {
                        out.append(newline ? "(?=\\n|\\z)" : "\\z");
                        noAtom();
                    } else {
                        literal(c);
                    }
                }
                default -> literal(c);
            }
        }
        if (!groupStarts.isEmpty()) {
            throw new IllegalArgumentException("Unmatched ( or \\(");
        }
    }

    /** BRE: {@code ^} is an anchor first in the pattern, or after {@code \(} or {@code \|}. */
    private boolean atContextStart() {
        int before = pos - 1;
        return before == 0 || (before >= 2 && re.charAt(before - 2) == '\\'
                && (re.charAt(before - 1) == '(' || re.charAt(before - 1) == '|'));
    }

    /** BRE: {@code $} is an anchor last in the pattern, or before {@code \)} or {@code \|}. */
    private boolean atContextEnd() {
        return pos == re.length() || (pos + 1 < re.length() && re.charAt(pos) == '\\'
                && (re.charAt(pos + 1) == ')' || re.charAt(pos + 1) == '|'));
    }

    private void escape() {
        if (pos >= re.length()) {
            throw new IllegalArgumentException("Trailing backslash");
        }
        char n = re.charAt(pos++);
        int start = out.length();
        if (!extended) {
            switch (n) {
                case '(' -> {
                    openGroup();
                    return;
                }
                case ')' -> {
                    if (groupStarts.isEmpty()) {
                        throw new IllegalArgumentException("Unmatched ) or \\)");
                    }
                    closeGroup();
                    return;
                }
                case '{' -> {
                    interval();
                    return;
                }
                case '|' -> {
                    alternation();
                    return;
                }
                case '+', '?' -> {
                    quantifier(String.valueOf(n));
                    return;
                }
                default -> {
                }
            }
        }
        switch (n) {
            case '1', '2', '3', '4', '5', '6', '7', '8', '9' -> {
                if (n - '0' > closedGroups) {
                    throw new IllegalArgumentException("Invalid back reference");
                }
                out.append("(?:\\").append(n).append(')');
                atom(start);
            }
            case 'w', 'W', 's', 'S' -> {
                out.append('\\').append(n);
                atom(start);
            }
            case 'b', 'B' -> {
                out.append('\\').append(n);
                noAtom();
            }
            case '<' -> {
                out.append("\\b(?=\\w)");
                noAtom();
            }
            case '>' -> {
                out.append("\\b(?<=\\w)");
                noAtom();
            }
            case '`' -> {
                out.append("\\A");
                noAtom();
            }
            case '\'' -> {
                out.append("\\z");
                noAtom();
            }
            default -> literal(n);
        }
    }

    private void openGroup() {
        groupStarts.push(out.length());
        openedGroups++;
        out.append('(');
        noAtom();
    }

    private void closeGroup() {
        int start = groupStarts.pop();
        out.append(')');
        closedGroups++;
        atom(start);
    }

    private void alternation() {
        out.append('|');
        noAtom();
    }

    private void interval() {
        int close = re.indexOf(extended ? "}" : "\\}", pos);
        if (close < 0) {
            throw new IllegalArgumentException("Unmatched \\{");
        }
        String body = re.substring(pos, close);
        if (!body.matches("\\d*(,\\d*)?") || body.isEmpty() || body.equals(",")) {
            throw new IllegalArgumentException(body.matches("[\\d,]*") ? "Invalid content of \\{\\}" : "Unmatched \\{");
        }
        String[] parts = body.split(",", -1);
        int min = parts[0].isEmpty() ? 0 : Integer.parseInt(parts[0]);
        if (parts.length == 2 && !parts[1].isEmpty() && Integer.parseInt(parts[1]) < min) {
            throw new IllegalArgumentException("Invalid content of \\{\\}");
        }
        if (min > 0x7fff || (parts.length == 2 && !parts[1].isEmpty() && Integer.parseInt(parts[1]) > 0x7fff)) {
            throw new IllegalArgumentException("Regular expression too big");
        }
        pos = close + (extended ? 1 : 2);
        quantifier("{" + min + (parts.length == 2 ? "," + parts[1] : "") + "}");
    }

    private void quantifier(String q) {
        if (atomStart < 0) {
            throw new IllegalArgumentException("Invalid preceding regular expression");
        }
        if (lastWasQuantifier) {
            // POSIX "a+?" is (a+)?, never Java's reluctant or possessive forms
            out.insert(atomStart, "(?:");
            out.append(')');
        }
        out.append(q);
        lastWasQuantifier = true;
    }

    private void atom(int start) {
        atomStart = start;
        lastWasQuantifier = false;
    }

    private void noAtom() {
        atomStart = -1;
        lastWasQuantifier = false;
    }

    private void literal(char c) {
        int start = out.length();
        appendLiteral(out, c);
        atom(start);
    }

    private static void appendLiteral(StringBuilder sb, char c) {
        if (c < 128 && Character.isLetterOrDigit(c)) {
            sb.append(c);
        } else {
            sb.append("\\x{").append(Integer.toHexString(c)).append('}');
        }
    }

    /** Reads a bracket expression; {@link #pos} is just after the {@code [}. */
    private void bracket() {
        StringBuilder cls = new StringBuilder("[");
        if (pos < re.length() && re.charAt(pos) == '^') {
            cls.append('^');
            pos++;
            if (newline) {
                cls.append("\\n");
            }
        }
        boolean first = true;
        while (true) {
            if (pos >= re.length()) {
                throw unmatchedBracket();
            }
            char c = re.charAt(pos);
            if (c == ']' && !first) {
                pos++;
                break;
            }
            first = false;
            if (c == '[' && pos + 1 < re.length() && ":.=".indexOf(re.charAt(pos + 1)) >= 0) {
                char kind = re.charAt(pos + 1);
                int end = re.indexOf(kind + "]", pos + 2);
                if (end < 0) {
                    throw unmatchedBracket();
                }
                String name = re.substring(pos + 2, end);
                pos = end + 2;
                if (kind == ':') {
                    cls.append(characterClass(name));
                    continue;
                }
                if (name.length() != 1) {
                    throw new IllegalArgumentException("Invalid collation character");
                }
                rangeFrom(cls, name.charAt(0));
                continue;
            }
            pos++;
            rangeFrom(cls, c);
        }
        out.append(cls).append(']');
    }

    /** Appends {@code start}, or the range that starts with it when a {@code -} and an end follow. */
    private void rangeFrom(StringBuilder cls, char start) {
        if (pos + 1 < re.length() && re.charAt(pos) == '-' && re.charAt(pos + 1) != ']') {
            pos++;
            char end;
            if (re.startsWith("[.", pos)) {
                int close = re.indexOf(".]", pos + 2);
                if (close < 0) {
                    throw unmatchedBracket();
                }
                String name = re.substring(pos + 2, close);
                if (name.length() != 1) {
                    throw new IllegalArgumentException("Invalid collation character");
                }
                end = name.charAt(0);
                pos = close + 2;
            } else if (re.startsWith("[:", pos) || re.startsWith("[=", pos)) {
                throw new IllegalArgumentException("Invalid range end");
            } else {
                end = re.charAt(pos++);
            }
            if (end < start) {
                throw new IllegalArgumentException("Invalid range end");
            }
            appendLiteral(cls, start);
            cls.append('-');
            appendLiteral(cls, end);
        } else {
            appendLiteral(cls, start);
        }
    }

    private String characterClass(String name) {
        return switch (name) {
            case "alpha" -> "\\p{Alpha}";
            case "upper" -> icase ? "\\p{Alpha}" : "\\p{Upper}";
            case "lower" -> icase ? "\\p{Alpha}" : "\\p{Lower}";
            case "digit" -> "0-9";
            case "alnum" -> "\\p{Alnum}";
            case "xdigit" -> "\\p{XDigit}";
            case "space" -> "\\s";
            case "blank" -> " \\t";
            case "punct" -> "\\p{Punct}";
            case "print" -> "\\p{Print}";
            case "graph" -> "\\p{Graph}";
            case "cntrl" -> "\\p{Cntrl}";
            default -> throw new IllegalArgumentException("Invalid character class name");
        };
    }

    private static IllegalArgumentException unmatchedBracket() {
        return new IllegalArgumentException("Unmatched [, [^, [:, [., or [=");
    }
}
