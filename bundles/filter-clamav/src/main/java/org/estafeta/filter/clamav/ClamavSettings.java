package org.estafeta.filter.clamav;

import java.time.Duration;
import java.util.Locale;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.filter.support.DaemonAddress;
import org.estafeta.filter.support.TimeValue;

/**
 * The clamav filter's parameters (main.cf, or a master.cf service's {@code -o}), read for each message from the
 * context of the configuration it arrived under.
 *
 * @param server {@code clamav_server}: clamd's socket, {@code unix:/path} or {@code inet:host:port}
 * @param action {@code clamav_action}: what to do with infected mail
 * @param timeout {@code clamav_timeout}: the most one scan may take, connect and answer included
 */
record ClamavSettings(DaemonAddress server, Action action, Duration timeout) {
    static final String SERVER = "clamav_server";
    static final String ACTION = "clamav_action";
    static final String TIMEOUT = "clamav_timeout";
    /** Debian's clamd socket (clamd.conf's LocalSocket). */
    static final String DEFAULT_SERVER = "unix:/var/run/clamav/clamd.ctl";
    static final String DEFAULT_TIMEOUT = "60s";

    /** {@code clamav_action} values. */
    enum Action {
        /** {@code 554 5.7.1 Virus found: NAME} to the client (or a bounce for local submission). */
        REJECT,
        /** Queue it on hold for the administrator ({@code postsuper -r} / {@code -d}). */
        HOLD,
        /** Acknowledge and throw away. */
        DISCARD
    }

    /** Reads the parameters; throws {@link IllegalArgumentException} naming the parameter for a bad value. */
    static ClamavSettings from(PluginContext c) {
        DaemonAddress server = DaemonAddress.parse(SERVER, value(c, SERVER, DEFAULT_SERVER));
        String a = value(c, ACTION, "reject").toLowerCase(Locale.ROOT);
        Action action = switch (a) {
            case "reject" -> Action.REJECT;
            case "hold" -> Action.HOLD;
            case "discard" -> Action.DISCARD;
            default -> throw new IllegalArgumentException(ACTION + ": expected reject, hold or discard: " + a);
        };
        return new ClamavSettings(server, action, Duration.ofSeconds(TimeValue.seconds(TIMEOUT, value(c, TIMEOUT, DEFAULT_TIMEOUT))));
    }

    private static String value(PluginContext c, String name, String fallback) {
        return c.parameter(name).map(String::strip).filter(v -> !v.isEmpty()).orElse(fallback);
    }
}
