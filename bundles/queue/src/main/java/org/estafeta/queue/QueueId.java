package org.estafeta.queue;

/**
 * Long queue IDs in Postfix's shape ({@code enable_long_queue_ids = yes}): six characters of seconds and four of
 * microseconds in a base-52 alphabet without vowels, the separator {@code z}, then a file number in base 51 (the
 * same alphabet without {@code z}). The time part sorts in arrival order as plain strings; the file number (the
 * inode of the file being written, as Postfix uses) keeps IDs of different processes apart.
 */
public final class QueueId {
    /** Postfix's "safe" alphabet, in ASCII order so that fixed-width encodings sort as strings. */
    static final String ALPHABET = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
    static final char SEPARATOR = 'z';

    private QueueId() {
    }

    /** The ID for a file created at {@code epochMicros} with file number {@code fileNumber}. */
    public static String of(long epochMicros, long fileNumber) {
        StringBuilder sb = new StringBuilder(16);
        encode(sb, epochMicros / 1_000_000, 52, 6);
        encode(sb, epochMicros % 1_000_000, 52, 4);
        sb.append(SEPARATOR);
        encode(sb, fileNumber, 51, 1);
        return sb.toString();
    }

    /** Whether {@code s} is a well-formed long queue ID (so a stray file name is never taken for one). */
    public static boolean isValid(String s) {
        int z = s.lastIndexOf(SEPARATOR);
        if (z < 10 || z == s.length() - 1) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (i != z && (ALPHABET.indexOf(c) < 0 || i > z && c == SEPARATOR)) {
                return false;
            }
        }
        return true;
    }

    private static void encode(StringBuilder sb, long value, int base, int minWidth) {
        if (value < 0) {
            throw new IllegalArgumentException("negative: " + value);
        }
        char[] digits = new char[16];
        int n = 0;
        do {
            digits[n++] = ALPHABET.charAt((int) (value % base));
            value /= base;
        } while (value > 0);
        for (int i = n; i < minWidth; i++) {
            sb.append('0');
        }
        while (n > 0) {
            sb.append(digits[--n]);
        }
    }
}
