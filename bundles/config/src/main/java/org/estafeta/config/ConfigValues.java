package org.estafeta.config;

import java.util.ArrayList;
import java.util.List;

/**
 * How a parameter's text becomes a typed value, with Postfix's error texts: the one place {@link ConfigSnapshot}
 * implementations (the real one, and the fakes of unit tests) read booleans, numbers, times and lists.
 */
public final class ConfigValues {
    private ConfigValues() {
    }

    /** {@code yes}/{@code no}, in any case. */
    public static boolean bool(String name, String value) {
        if (value.equalsIgnoreCase("yes")) {
            return true;
        }
        if (value.equalsIgnoreCase("no")) {
            return false;
        }
        throw new IllegalArgumentException("bad boolean configuration: " + name + " = " + value);
    }

    public static long integer(String name, String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad numerical configuration: " + name + " = " + value);
        }
    }

    /**
     * A time in seconds: a number with one of Postfix's units {@code s m h d w}, or a bare number in
     * {@code defaultUnit} (the parameter's own, {@code s} for most).
     */
    public static long seconds(String name, String value, char defaultUnit) {
        String v = value.strip();
        char unit = defaultUnit;
        String digits = v;
        if (!v.isEmpty() && Character.isLetter(v.charAt(v.length() - 1))) {
            unit = v.charAt(v.length() - 1);
            digits = v.substring(0, v.length() - 1);
        }
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("parameter " + name + ": bad time value or unit: " + v);
        }
        return switch (unit) {
            case 's' -> n;
            case 'm' -> n * 60;
            case 'h' -> n * 3600;
            case 'd' -> n * 86400;
            case 'w' -> n * 604800;
            default -> throw new IllegalArgumentException("parameter " + name + ": bad time value or unit: " + v);
        };
    }

    /**
     * A list split as Postfix's mystrtokq() splits list parameters: on white space and commas, with {@code { }}
     * keeping one element together, braces included ({@code inline:{ a=b, c=d }}, {@code static:{ text }});
     * empty pieces dropped. Every core bundle splits lists with this one method.
     */
    public static List<String> list(String value) {
        List<String> out = new ArrayList<>();
        int n = value.length();
        int i = 0;
        while (i < n) {
            while (i < n && isListSeparator(value.charAt(i))) {
                i++;
            }
            int start = i;
            int level = 0;
            while (i < n && (level > 0 || !isListSeparator(value.charAt(i)))) {
                char c = value.charAt(i);
                if (c == '{') {
                    level++;
                } else if (c == '}' && level > 0) {
                    level--;
                }
                i++;
            }
            if (i > start) {
                out.add(value.substring(start, i));
            }
        }
        return List.copyOf(out);
    }

    private static boolean isListSeparator(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',';
    }
}
