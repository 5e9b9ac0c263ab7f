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

    /** The name in the {@code disconnect from} counters ({@code ehlo=1}). */
    String counterName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
