package org.estafeta.smtpd;

import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The commands smtpd knows, in the order of Postfix's command table, which is also the order of the counters in
 * the {@code disconnect from} log line. {@link #UNKNOWN} stands for every other verb.
 */
enum SmtpCommand {
    HELO, EHLO, XCLIENT, XFORWARD, STARTTLS, AUTH, MAIL, RCPT, DATA, BDAT, RSET, NOOP, VRFY, ETRN, QUIT, UNKNOWN;

    private static final Map<String, SmtpCommand> BY_NAME = Stream.of(values())
            .filter(c -> c != UNKNOWN)
            .collect(Collectors.toUnmodifiableMap(Enum::name, Function.identity()));

    /** The command a verb names, case-insensitively; {@link #UNKNOWN} if none. */
    static SmtpCommand of(String verb) {
        return BY_NAME.getOrDefault(verb.toUpperCase(Locale.ROOT), UNKNOWN);
    }

    /** Postfix's SMTPD_CMD_FLAG_LAST: the last command of an RFC 2920 command group. */
    boolean lastInGroup() {
        return this == HELO || this == EHLO || this == DATA || this == NOOP || this == VRFY;
    }

    /** Postfix's SMTPD_CMD_FLAG_LIMIT: counted against {@code smtpd_junk_command_limit}. */
    boolean limited() {
        return this == HELO || this == EHLO || this == RSET || this == NOOP || this == VRFY || this == ETRN;
    }

    /** The name in the {@code disconnect from} counters ({@code ehlo=1}). */
    String counterName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
