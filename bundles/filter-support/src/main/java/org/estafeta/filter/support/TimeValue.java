package org.estafeta.filter.support;

/**
 * Postfix time values as the filters' and milters' {@code *_timeout} parameters take them: a number with an optional unit
 * {@code s m h d w} (seconds without one), positive. Stateless; thread-safe.
 */
public final class TimeValue {
    private TimeValue() {
    }

    /**
     * The seconds that {@code value} stands for; throws {@link IllegalArgumentException} naming the parameter
     * {@code name} for a bad number or unit, or for a value that is not positive.
     */
    public static long seconds(String name, String value) {
        return parseSeconds(name, value);
    }

    /** As {@link #seconds}, as a {@link java.time.Duration}. */
    public static java.time.Duration duration(String name, String value) {
        return java.time.Duration.ofSeconds(parseSeconds(name, value));
    }

    private static long parseSeconds(String name, String value) {
        String v = value.strip();
        long unit = 1;
        if (!v.isEmpty() && Character.isLetter(v.charAt(v.length() - 1))) {
            unit = switch (v.charAt(v.length() - 1)) {
                case 's' -> 1;
                case 'm' -> 60;
                case 'h' -> 3600;
                case 'd' -> 86400;
                case 'w' -> 604800;
                default -> throw new IllegalArgumentException(name + ": bad time value or unit: " + value);
            };
            v = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(v);
            if (n <= 0) {
                throw new IllegalArgumentException(name + ": must be positive: " + value);
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(name + ": bad time value or unit: " + value);
        }
    }
}
