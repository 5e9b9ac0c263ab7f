package org.estafeta.filter.spamassassin;

import java.time.Duration;
import java.util.Optional;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.filter.support.DaemonAddress;
import org.estafeta.filter.support.TimeValue;

/**
 * The spamassassin filter's parameters (main.cf, or a master.cf service's {@code -o}), read for each message from the
 * context of the configuration it arrived under. See docs/content-filters.md.
 *
 * @param server {@code spamassassin_server}: spamd's socket, {@code unix:/path} or {@code inet:host:port}
 * @param user {@code spamassassin_user}: spamd's {@code User} (whose preferences apply), empty: spamd's own
 * @param timeout {@code spamassassin_timeout}: the most one check may take, connect and answer included
 * @param maxSize {@code spamassassin_max_size}: larger messages are passed on unchecked, as spamc does (0: no limit)
 * @param rejectScore {@code spamassassin_reject_score}: reject at or above this score; empty: never
 * @param holdScore {@code spamassassin_hold_score}: hold at or above this score (below the reject score); empty: never
 */
record SpamAssassinSettings(DaemonAddress server, Optional<String> user, Duration timeout, long maxSize,
        Optional<Double> rejectScore, Optional<Double> holdScore) {
    static final String SERVER = "spamassassin_server";
    static final String USER = "spamassassin_user";
    static final String TIMEOUT = "spamassassin_timeout";
    static final String MAX_SIZE = "spamassassin_max_size";
    static final String REJECT_SCORE = "spamassassin_reject_score";
    static final String HOLD_SCORE = "spamassassin_hold_score";
    /** Debian's spamd listens on 127.0.0.1:783 (spamd's default port). */
    static final String DEFAULT_SERVER = "inet:127.0.0.1:783";
    static final String DEFAULT_TIMEOUT = "60s";
    /** spamc's default -s: 500 KB. */
    static final String DEFAULT_MAX_SIZE = "512000";
    static final String DEFAULT_REJECT_SCORE = "15";

    /** Reads the parameters; throws {@link IllegalArgumentException} naming the parameter for a bad value. */
    static SpamAssassinSettings from(PluginContext c) {
        DaemonAddress server = DaemonAddress.parse(SERVER, value(c, SERVER, DEFAULT_SERVER));
        Optional<String> user = c.parameter(USER).map(String::strip).filter(v -> !v.isEmpty());
        if (user.isPresent() && !user.get().matches("[!-~]+")) {
            throw new IllegalArgumentException(USER + ": not a user name: " + user.get());
        }
        long maxSize;
        try {
            maxSize = Long.parseLong(value(c, MAX_SIZE, DEFAULT_MAX_SIZE));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(MAX_SIZE + ": bad number: " + c.parameter(MAX_SIZE).orElse(""));
        }
        if (maxSize < 0) {
            throw new IllegalArgumentException(MAX_SIZE + ": must not be negative: " + maxSize);
        }
        return new SpamAssassinSettings(server, user,
                Duration.ofSeconds(TimeValue.seconds(TIMEOUT, value(c, TIMEOUT, DEFAULT_TIMEOUT))), maxSize,
                score(REJECT_SCORE, c.parameter(REJECT_SCORE).orElse(DEFAULT_REJECT_SCORE)),
                score(HOLD_SCORE, c.parameter(HOLD_SCORE).orElse("")));
    }

    private static String value(PluginContext c, String name, String fallback) {
        return c.parameter(name).map(String::strip).filter(v -> !v.isEmpty()).orElse(fallback);
    }

    private static Optional<Double> score(String name, String value) {
        String v = value.strip();
        if (v.isEmpty()) {
            return Optional.empty();
        }
        try {
            double d = Double.parseDouble(v);
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new NumberFormatException();
            }
            return Optional.of(d);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": bad score: " + value);
        }
    }
}
