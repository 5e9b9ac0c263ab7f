package org.estafeta.sasl.dovecot;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.api.plugin.PluginContext;

/**
 * The parameters one exchange runs with, read from the smtpd service's context (so master.cf {@code -o} overrides
 * apply): {@code smtpd_sasl_path} (Postfix's default {@code smtpd}) under {@code queue_directory},
 * {@code smtpd_sasl_service} (default {@code smtp}, sent to Dovecot as {@code service=}) and
 * {@value #TIMEOUT_PARAMETER} (default {@value #DEFAULT_TIMEOUT}), which bounds the connect, the handshake, each
 * write and each wait for a reply. Postfix has a fixed 10 s here; the default is longer than Dovecot's largest auth
 * penalty (15 s for a client address with repeated failures), so that a penalized client gets Dovecot's answer
 * rather than a timeout.
 */
record AuthSettings(AuthSocket socket, String service, Duration timeout) {
    static final String TIMEOUT_PARAMETER = "estafeta_dovecot_auth_timeout";
    static final String DEFAULT_TIMEOUT = "30s";
    private static final Pattern TIME = Pattern.compile("(\\d{1,9})([smhdw]?)");

    /**
     * Reads the settings.
     *
     * @throws IllegalArgumentException naming the parameter when one is unusable
     */
    static AuthSettings from(PluginContext ctx) {
        String path = value(ctx, "smtpd_sasl_path", "smtpd");
        AuthSocket socket = AuthSocket.parse(path, ctx.parameter("queue_directory").orElse(""));
        String service = value(ctx, "smtpd_sasl_service", "smtp");
        Duration timeout = time(TIMEOUT_PARAMETER, value(ctx, TIMEOUT_PARAMETER, DEFAULT_TIMEOUT));
        return new AuthSettings(socket, service, timeout);
    }

    private static String value(PluginContext ctx, String name, String dflt) {
        return ctx.parameter(name).map(String::strip).filter(s -> !s.isEmpty()).orElse(dflt);
    }

    /** A Postfix time value: a number with an optional unit s, m, h, d or w (seconds when none); above zero. */
    static Duration time(String name, String value) {
        Matcher m = TIME.matcher(value.toLowerCase(Locale.ROOT));
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new IllegalArgumentException("invalid " + name + " value: " + value);
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            case "w" -> Duration.ofDays(7 * n);
            default -> Duration.ofSeconds(n);
        };
    }
}
