package org.estafeta.smtpd;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.function.Supplier;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;

/**
 * The parameters an smtpd instance uses, read once from the entry's snapshot when the instance starts. Sessions
 * share this immutable value, so a reload never changes a session in the middle.
 *
 * <p>Each parameter is read with {@link ConfigSnapshot#get}; while the config registry does not know a parameter yet,
 * the fallback below is Postfix's default:
 * <ul>
 * <li>{@code myhostname}: the system's host name (Postfix: the fully qualified name from gethostname());</li>
 * <li>{@code smtpd_banner}: {@code $myhostname ESMTP $mail_name}, {@code mail_name} falling back to Estafeta;</li>
 * <li>{@code smtpd_timeout}: 300s (Postfix {@code ${stress?{10}:{300}}s}; minimum 1s);</li>
 * <li>{@code line_length_limit}: 2048 (minimum 512);</li>
 * <li>{@code default_process_limit}: 100 (minimum 1), used when the maxproc column is {@code -}.</li>
 * </ul>
 *
 * @param myhostname the name in the EHLO/HELO reply and in 421 replies
 * @param banner the greeting text after {@code 220 }
 * @param timeoutSeconds how long a session waits for the client to send something
 * @param lineLengthLimit a command line (with its CRLF) longer than this is refused
 * @param processLimit concurrent sessions of this entry; 0 means no limit
 */
record SmtpdSettings(String myhostname, String banner, long timeoutSeconds, int lineLengthLimit, int processLimit) {

    static final long DEFAULT_SMTPD_TIMEOUT = 300;
    static final int DEFAULT_LINE_LENGTH_LIMIT = 2048;
    static final int DEFAULT_PROCESS_LIMIT = 100;
    static final String DEFAULT_MAIL_NAME = "Estafeta";

    /** @throws IllegalArgumentException naming the parameter (or master.cf column) and the bad value */
    static SmtpdSettings from(MasterEntry entry, ConfigSnapshot config) {
        String myhostname = config.get("myhostname").filter(s -> !s.isBlank()).orElseGet(SmtpdSettings::systemHostName);
        String banner = config.get("smtpd_banner")
                .orElseGet(() -> myhostname + " ESMTP " + config.get("mail_name").orElse(DEFAULT_MAIL_NAME));
        long timeout = optional(config, "smtpd_timeout", () -> config.seconds("smtpd_timeout")).orElse(DEFAULT_SMTPD_TIMEOUT);
        atLeast("smtpd_timeout", timeout, 1);
        long lineLimit = optional(config, "line_length_limit", () -> config.integer("line_length_limit"))
                .orElse((long) DEFAULT_LINE_LENGTH_LIMIT);
        atLeast("line_length_limit", lineLimit, 512);
        int processLimit = processLimit(entry, config);
        return new SmtpdSettings(myhostname, banner, timeout, (int) Math.min(lineLimit, Integer.MAX_VALUE - 2), processLimit);
    }

    private static int processLimit(MasterEntry entry, ConfigSnapshot config) {
        String column = entry.maxproc();
        if (column == null || column.equals("-")) {
            long value = optional(config, "default_process_limit", () -> config.integer("default_process_limit"))
                    .orElse((long) DEFAULT_PROCESS_LIMIT);
            atLeast("default_process_limit", value, 1);
            return (int) Math.min(value, Integer.MAX_VALUE);
        }
        try {
            int value = Integer.parseInt(column);
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        // Postfix master: "bad numerical value for max_proc field: x"
        throw new IllegalArgumentException("bad numerical value for max_proc field: " + column);
    }

    private static Optional<Long> optional(ConfigSnapshot config, String name, Supplier<Long> typed) {
        return config.get(name).isPresent() ? Optional.of(typed.get()) : Optional.empty();
    }

    private static void atLeast(String name, long value, long minimum) {
        if (value < minimum) {
            // Postfix's text for a value below the parameter's minimum
            throw new IllegalArgumentException("invalid " + name + " parameter value " + value + " < " + minimum);
        }
    }

    private static String systemHostName() {
        try {
            return InetAddress.getLocalHost().getCanonicalHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
