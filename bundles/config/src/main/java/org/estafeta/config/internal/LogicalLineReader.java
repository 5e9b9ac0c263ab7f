package org.estafeta.config.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Splits a Postfix configuration file into logical lines, with the rules of Postfix's readllines():
 * <ul>
 * <li>a line that is empty, all white space, or whose first non-space character is {@code #} is ignored, and
 * it does not end a logical line;</li>
 * <li>a line that starts with white space continues the logical line before it; the newline is dropped and
 * the leading white space kept;</li>
 * <li>text that starts with white space where no logical line is open is skipped with the warning
 * {@code logical line must not start with whitespace}.</li>
 * </ul>
 */
final class LogicalLineReader {
    private LogicalLineReader() {
    }

    /** Postfix's ISSPACE: the C locale's isspace(). */
    static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\u000b' || c == '\f';
    }

    static List<LogicalLine> read(String content, String file, Consumer<org.estafeta.config.ConfigWarning> warnings) {
        String[] physical = content.split("\n", -1);
        int count = physical.length;
        if (count > 0 && physical[count - 1].isEmpty()) {
            count--; // text ended with a newline
        }
        List<LogicalLine> result = new ArrayList<>();
        StringBuilder text = null;
        int first = 0;
        List<Integer> starts = new ArrayList<>();
        List<Integer> numbers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String line = physical[i];
            int lineNo = i + 1;
            int p = 0;
            while (p < line.length() && isSpace(line.charAt(p))) {
                p++;
            }
            if (p == line.length() || line.charAt(p) == '#') {
                continue; // comment or blank: ignored, and does not end the logical line
            }
            if (p == 0 && text != null) {
                finish(text, first, starts, numbers, result, file, warnings);
                text = null;
            }
            if (text == null) {
                text = new StringBuilder();
                first = lineNo;
                starts.clear();
                numbers.clear();
            }
            starts.add(text.length());
            numbers.add(lineNo);
            text.append(line);
        }
        if (text != null) {
            finish(text, first, starts, numbers, result, file, warnings);
        }
        return result;
    }

    private static void finish(StringBuilder text, int first, List<Integer> starts, List<Integer> numbers,
            List<LogicalLine> result, String file, Consumer<org.estafeta.config.ConfigWarning> warnings) {
        String t = text.toString();
        if (isSpace(t.charAt(0))) {
            // continuing text without preceding text: Postfix warns and skips it
            String shown = t.length() > 30 ? t.substring(0, 30) + "..." : t;
            warnings.accept(new org.estafeta.config.ConfigWarning(file, first,
                    "logical line must not start with whitespace: \"" + shown + "\""));
            return;
        }
        result.add(new LogicalLine(t, first, starts.stream().mapToInt(Integer::intValue).toArray(),
                numbers.stream().mapToInt(Integer::intValue).toArray()));
    }
}
