package org.estafeta.milter;

import java.time.Duration;

/** Postfix time values: a number with an optional unit {@code s m h d w} (seconds without one). */
final class TimeValue {
    private TimeValue() {
    }

    /** Parses {@code value}; throws {@link IllegalArgumentException} naming {@code parameter}. Must be positive. */
    static Duration parse(String parameter, String value) {
        String v = value.strip();
        long unit = 1;
        if (!v.isEmpty() && Character.isLetter(v.charAt(v.length() - 1))) {
            unit = switch (v.charAt(v.length() - 1)) {
                case 's' -> 1;
                case 'm' -> 60;
                case 'h' -> 3600;
                case 'd' -> 86400;
                case 'w' -> 604800;
                default -> throw new IllegalArgumentException(parameter + ": bad time value or unit: " + value);
            };
            v = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(v);
            if (n <= 0) {
                throw new IllegalArgumentException(parameter + ": must be positive: " + value);
            }
            return Duration.ofSeconds(Math.multiplyExact(n, unit));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(parameter + ": bad time value or unit: " + value);
        }
    }
}
