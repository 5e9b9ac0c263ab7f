package org.estafeta.table.simple;

import org.estafeta.table.support.LogicalLines;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A postmap(1)-format source file read into memory, as Postfix's {@code texthash:} reads it ({@code dict_thash.c}):
 * logical lines (comments, continuation lines), each {@code key whitespace value}. The key ends at the first white
 * space outside double quotes (a backslash protects the next character) and is kept as written, quotes included,
 * folded to lower case; the value is the rest without surrounding white space. Malformed lines are skipped with
 * Postfix's warning naming the file and line; for a duplicate key the first entry wins with a warning, as
 * {@code postmap -q} answers.
 */
final class TextHash {
    private final Map<String, String> entries;

    private TextHash(Map<String, String> entries) {
        this.entries = entries;
    }

    String get(String key) {
        return entries.get(PostfixText.fold(key));
    }

    int size() {
        return entries.size();
    }

    static TextHash parse(String path, String text, Consumer<String> warn) {
        Map<String, String> entries = new HashMap<>();
        for (LogicalLines.Line line : LogicalLines.split(path, text, warn)) {
            String buf = line.text();
            int n = buf.length();
            boolean inQuotes = false;
            int split = 0;
            for (; split < n; split++) {
                char c = buf.charAt(split);
                if (c == '\\') {
                    if (++split >= n) {
                        break;
                    }
                } else if (LogicalLines.isSpace(c)) {
                    if (!inQuotes) {
                        break;
                    }
                } else if (c == '"') {
                    inQuotes = !inQuotes;
                }
            }
            if (inQuotes) {
                warn.accept(path + ", line " + line.number() + ": unbalanced '\"' in '" + buf
                        + "' -- ignoring this line");
                continue;
            }
            String key = buf.substring(0, Math.min(split, n));
            String value = split < n
                    ? LogicalLines.trimTrailing(LogicalLines.trimLeading(buf.substring(split + 1)))
                    : "";
            if (key.isEmpty() || value.isEmpty()) {
                warn.accept(path + ", line " + line.number() + ": expected format: key whitespace value"
                        + " -- ignoring this line");
                continue;
            }
            if (key.endsWith(":")) {
                warn.accept(path + ", line " + line.number() + ": record is in \"key: value\" format;"
                        + " is this an alias file?");
            }
            if (entries.putIfAbsent(PostfixText.fold(key), value) != null) {
                warn.accept(path + ", line " + line.number() + ": duplicate entry: \"" + key + "\"");
            }
        }
        return new TextHash(Map.copyOf(entries));
    }
}
