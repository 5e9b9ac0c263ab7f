package org.estafeta.table.ldap;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import org.estafeta.table.support.LogicalLines;

/**
 * The {@code name = value} lines of an ldap_table(5) file, read as Postfix's {@code dict_load_file()} reads them:
 * logical lines (comments, blank lines and continuation lines as in main.cf), the value without surrounding
 * white space, no {@code $name} expansion, a later setting replacing an earlier one with a warning. Unknown names
 * are kept and ignored, as Postfix ignores them. Getters apply cfg_parser's checks and throw
 * {@link IllegalArgumentException} with Postfix's text for values it would refuse at open time.
 *
 * <p>Immutable once read; not thread-safe while being read (it is read once, by the opening thread).
 */
final class ConfigFile {
    private final String path;
    private final Map<String, String> values = new LinkedHashMap<>();

    private ConfigFile(String path) {
        this.path = path;
    }

    /**
     * Reads {@code text}, the contents of the file {@code path}.
     *
     * @throws IllegalArgumentException naming file and line for a line that is not {@code name = value}
     */
    static ConfigFile parse(String path, String text, Consumer<String> warn) {
        ConfigFile file = new ConfigFile(path);
        for (LogicalLines.Line line : LogicalLines.split(path, text, warn)) {
            String s = line.text();
            int i = 0;
            while (i < s.length() && LogicalLines.isSpace(s.charAt(i))) {
                i++;
            }
            if (i == s.length() || s.charAt(i) == '=') {
                throw new IllegalArgumentException(
                        path + ", line " + line.number() + ": missing attribute name: \"" + s + "\"");
            }
            int nameStart = i;
            while (i < s.length() && !LogicalLines.isSpace(s.charAt(i)) && s.charAt(i) != '=') {
                i++;
            }
            String name = s.substring(nameStart, i);
            while (i < s.length() && LogicalLines.isSpace(s.charAt(i))) {
                i++;
            }
            if (i == s.length() || s.charAt(i) != '=') {
                throw new IllegalArgumentException(
                        path + ", line " + line.number() + ": missing '=' after attribute name: \"" + s + "\"");
            }
            String value = LogicalLines.trimTrailing(LogicalLines.trimLeading(s.substring(i + 1)));
            String old = file.values.put(name, value);
            if (old != null && !old.equals(value)) {
                // Postfix prints the old value; a password is never logged
                warn.accept(path + ", line " + line.number() + ": overriding earlier entry: " + name + "="
                        + (name.equals("bind_pw") ? "(hidden)" : old));
            }
        }
        return file;
    }

    String path() {
        return path;
    }

    boolean isSet(String name) {
        return values.containsKey(name);
    }

    /** cfg_get_str: the value or {@code def}; {@code min} > 0 is a minimum length. */
    String string(String name, String def, int min) {
        String v = values.getOrDefault(name, def);
        if (v != null && min > 0 && v.length() < min) {
            throw new IllegalArgumentException(
                    path + ": bad string length " + v.length() + " < " + min + ": " + name + " = " + v);
        }
        return v;
    }

    /** cfg_get_int: a decimal int, at least {@code min} when {@code min} is not 0. */
    int integer(String name, int def, int min) {
        String v = values.get(name);
        int n = def;
        if (v != null) {
            try {
                n = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(path + ": bad numerical configuration: " + name + " = " + v);
            }
        }
        if (min != 0 && n < min) {
            throw new IllegalArgumentException(path + ": invalid " + name + " parameter value " + n + " < " + min);
        }
        return n;
    }

    /** cfg_get_bool: {@code yes} or {@code no}, in any case. */
    boolean bool(String name, boolean def) {
        String v = values.get(name);
        if (v == null) {
            return def;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "yes" -> true;
            case "no" -> false;
            default -> throw new IllegalArgumentException(path + ": bad boolean configuration: " + name + " = " + v);
        };
    }
}
