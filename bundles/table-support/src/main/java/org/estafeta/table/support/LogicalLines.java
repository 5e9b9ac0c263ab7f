package org.estafeta.table.support;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Splits a table source into logical lines as Postfix's {@code readllines()} does: empty lines, lines of white
 * space only and lines whose first non-blank character is {@code #} are ignored; a line that starts with white
 * space continues the previous logical line (the physical lines are joined as they are, without the newline, so
 * the continuation keeps its leading white space); a comment or blank line inside a continued line does not end
 * it. A logical line that would start with white space is skipped with Postfix's warning.
 */
public final class LogicalLines {
    /** One logical line and the physical line number it starts on. */
    public record Line(int number, String text) {
    }

    private LogicalLines() {
    }

    /** Postfix's ISSPACE: the ASCII white-space characters of the C locale. */
    public static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\u000b';
    }

    /** Removes trailing white space, as Postfix's {@code trimblanks()}. */
    public static String trimTrailing(String s) {
        int end = s.length();
        while (end > 0 && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    public static String trimLeading(String s) {
        int i = 0;
        while (i < s.length() && isSpace(s.charAt(i))) {
            i++;
        }
        return s.substring(i);
    }

    /**
     * The logical lines of {@code text}; {@code warn} receives Postfix's warning text for a logical line that starts
     * with white space ({@code path: logical line must not start with whitespace: "..."}).
     */
    public static List<Line> split(String path, String text, Consumer<String> warn) {
        List<String> physical = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                physical.add(text.substring(start, i));
                start = i + 1;
            }
        }
        if (start < text.length()) {
            physical.add(text.substring(start));
        }
        List<Line> out = new ArrayList<>();
        int next = 0;
        while (next < physical.size()) {
            StringBuilder buf = new StringBuilder();
            int first = 0;
            while (next < physical.size()) {
                String seg = physical.get(next++);
                int lineno = next;
                if (isBlankOrComment(seg)) {
                    seg = "";
                }
                if (buf.length() == 0) {
                    first = lineno;
                }
                buf.append(seg);
                if (buf.length() > 0 && next < physical.size()) {
                    String following = physical.get(next);
                    // an empty physical line starts with its newline, which is white space
                    char c = following.isEmpty() ? '\n' : following.charAt(0);
                    if (c != '#' && !isSpace(c)) {
                        break;
                    }
                }
            }
            if (buf.length() == 0) {
                continue;
            }
            String line = buf.toString();
            if (isSpace(line.charAt(0))) {
                warn.accept(path + ": logical line must not start with whitespace: \""
                        + (line.length() > 30 ? line.substring(0, 30) + "..." : line) + "\"");
                continue;
            }
            out.add(new Line(first, line));
        }
        return out;
    }

    private static boolean isBlankOrComment(String seg) {
        for (int i = 0; i < seg.length(); i++) {
            char c = seg.charAt(i);
            if (!isSpace(c)) {
                return c == '#';
            }
        }
        return true;
    }
}
