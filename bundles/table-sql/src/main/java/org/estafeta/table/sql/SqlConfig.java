package org.estafeta.table.sql;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

import org.estafeta.api.table.TableOpenException;
import org.estafeta.table.support.LogicalLines;
import org.estafeta.table.support.ReloadingFile;

/**
 * The parameters of one SQL table, read as Postfix's {@code cfg_parser} reads them: from the configuration file
 * named by the table (a name starting with {@code /} or {@code .}: {@code name = value} lines in main.cf's syntax,
 * values taken literally, no {@code $name} expansion), or, for any other name, from main.cf parameters called
 * {@code NAME_hosts}, {@code NAME_query} and so on (Postfix's obsolete form). Read once, when the table opens.
 *
 * <p>Errors are Postfix's fatal texts in a {@link TableOpenException}: {@code /etc/x.cf, line 3: missing '='
 * after attribute name: "foo"}, {@code /etc/x.cf: bad numerical configuration: expansion_limit = x}.
 */
final class SqlConfig {
    private final String name;
    private final Function<String, Optional<String>> source;

    private SqlConfig(String name, Function<String, Optional<String>> source) {
        this.name = name;
        this.source = source;
    }

    /** The parser's name, as Postfix prints it in its messages (the file name, or the main.cf prefix). */
    String name() {
        return name;
    }

    /**
     * Reads {@code name}: the file when it starts with {@code /} or {@code .}, else main.cf parameters through
     * {@code mainCf}. {@code warn} receives the warnings Postfix prints while reading (overridden entries, lines
     * starting with white space).
     */
    static SqlConfig read(String tableName, String name, Function<String, Optional<String>> mainCf,
            Consumer<String> warn) throws TableOpenException {
        if (name.isEmpty()) {
            throw new TableOpenException(tableName + ": null parser name");
        }
        if (name.charAt(0) != '/' && name.charAt(0) != '.') {
            return new SqlConfig(name, param -> mainCf.apply(name + "_" + param));
        }
        String text;
        try {
            text = Files.readString(Path.of(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TableOpenException(tableName + ": open " + name + ": " + ReloadingFile.reason(e), e);
        }
        Map<String, String> values = new HashMap<>();
        for (LogicalLines.Line line : LogicalLines.split(name, text, warn)) {
            String[] nv = splitNameValue(line.text());
            if (nv.length == 1) {
                throw new TableOpenException(tableName + ": " + name + ", line " + line.number() + ": " + nv[0]
                        + ": \"" + line.text() + "\"");
            }
            String old = values.put(nv[0], nv[1]);
            if (old != null && !old.equals(nv[1])) {
                warn.accept(name + ", line " + line.number() + ": overriding earlier entry: " + nv[0] + "=" + old);
            }
        }
        return new SqlConfig(name, param -> Optional.ofNullable(values.get(param)));
    }

    /** Postfix's split_nameval: {@code {name, value}}, or {@code {error}}. */
    static String[] splitNameValue(String buf) {
        int n = buf.length();
        int np = 0;
        while (np < n && LogicalLines.isSpace(buf.charAt(np))) {
            np++;
        }
        if (np == n || buf.charAt(np) == '=') {
            return new String[] {"missing attribute name"};
        }
        int ep = np;
        while (ep < n && !LogicalLines.isSpace(buf.charAt(ep)) && buf.charAt(ep) != '=') {
            ep++;
        }
        int cp = ep;
        while (cp < n && LogicalLines.isSpace(buf.charAt(cp))) {
            cp++;
        }
        if (cp == n || buf.charAt(cp) != '=') {
            return new String[] {"missing '=' after attribute name"};
        }
        String value = LogicalLines.trimTrailing(LogicalLines.trimLeading(buf.substring(cp + 1)));
        return new String[] {buf.substring(np, ep), value};
    }

    /**
     * cfg_get_str: the value, or {@code defval} when unset; {@code null} when both are empty and {@code defval}
     * is {@code null}; refused when shorter than {@code min} (0: no minimum).
     */
    String string(String param, String defval, int min) throws TableOpenException {
        String v = source.apply(param).orElse(defval == null ? "" : defval);
        if (min > 0 && v.length() < min) {
            throw new TableOpenException(name + ": bad string length " + v.length() + " < " + min + ": " + param
                    + " = " + v);
        }
        return defval == null && v.isEmpty() ? null : v;
    }

    /** cfg_get_int, with Postfix's checks and texts; {@code min} 0 means no minimum. */
    int integer(String param, int defval, int min) throws TableOpenException {
        Optional<String> v = source.apply(param);
        int value = defval;
        if (v.isPresent()) {
            try {
                value = Integer.parseInt(v.get());
            } catch (NumberFormatException e) {
                throw new TableOpenException(name + ": bad numerical configuration: " + param + " = " + v.get());
            }
        }
        if (min != 0 && value < min) {
            throw new TableOpenException(name + ": invalid " + param + " parameter value " + value + " < " + min);
        }
        return value;
    }

    /** cfg_get_bool: {@code yes} or {@code no}, case-insensitive. */
    boolean bool(String param, boolean defval) throws TableOpenException {
        Optional<String> v = source.apply(param);
        if (v.isEmpty()) {
            return defval;
        }
        if (v.get().equalsIgnoreCase("yes")) {
            return true;
        }
        if (v.get().equalsIgnoreCase("no")) {
            return false;
        }
        throw new TableOpenException(name + ": bad boolean configuration: " + param + " = " + v.get());
    }
}
