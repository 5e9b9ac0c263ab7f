package org.estafeta.cleanup.internal;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigValues;

/**
 * The in-process content filters a submission goes through (docs/content-filters.md), read from the snapshot of the
 * service that received it when the caller names one ({@code Cleanup.open(Submission, ConfigSnapshot)}), so that a
 * master.cf {@code -o estafeta_content_filters=} turns them off for one listener; from main.cf otherwise.
 *
 * @param names {@code estafeta_content_filters}: the filters' names ({@code estafeta.filter} service property), in
 *        the order they run; empty: no filtering
 * @param timeout {@code estafeta_content_filter_timeout}: how long one filter may take with one message
 * @param failOpen {@code estafeta_content_filter_fail_open}: filters whose failure (exception, timeout) lets the
 *        message pass on with a warning instead of {@code 451 4.3.0}
 */
record FilterSettings(List<String> names, Duration timeout, Set<String> failOpen) {
    static final String FILTERS = "estafeta_content_filters";
    static final String TIMEOUT = "estafeta_content_filter_timeout";
    static final String FAIL_OPEN = "estafeta_content_filter_fail_open";
    static final String DEFAULT_TIMEOUT = "300s";

    static final FilterSettings NONE = new FilterSettings(List.of(), Duration.ofSeconds(300), Set.of());

    FilterSettings {
        names = List.copyOf(new LinkedHashSet<>(names));
        failOpen = Set.copyOf(failOpen);
    }

    /**
     * Reads the three parameters; a time without unit is seconds. Throws {@link IllegalArgumentException} naming the
     * parameter when the timeout does not parse.
     */
    static FilterSettings from(ConfigSnapshot c) {
        List<String> names = c.list(FILTERS);
        if (names.isEmpty()) {
            return NONE;
        }
        long seconds = ConfigValues.seconds(TIMEOUT, c.get(TIMEOUT).filter(v -> !v.isBlank()).orElse(DEFAULT_TIMEOUT), 's');
        if (seconds <= 0) {
            throw new IllegalArgumentException(TIMEOUT + ": must be positive: " + c.get(TIMEOUT).orElse(""));
        }
        return new FilterSettings(names, Duration.ofSeconds(seconds), new LinkedHashSet<>(c.list(FAIL_OPEN)));
    }

    boolean active() {
        return !names.isEmpty();
    }

    /**
     * These settings with the milters of the submission's kind at the end of the chain: {@code smtpd_milters} for
     * mail from smtpd, {@code non_smtpd_milters} for local submission, each run by the milter bundle's filter of
     * that name (docs/milter.md), unless {@code receive_override_options} has {@code no_milters}.
     */
    FilterSettings withMilters(ConfigSnapshot c, boolean local, boolean noMilters) {
        String parameter = local ? "non_smtpd_milters" : "smtpd_milters";
        if (noMilters || c.get(parameter).map(String::isBlank).orElse(true)) {
            return this;
        }
        List<String> all = new java.util.ArrayList<>(names);
        all.add(parameter);
        Duration t = names.isEmpty() ? Duration.ofSeconds(ConfigValues.seconds(TIMEOUT,
                c.get(TIMEOUT).filter(v -> !v.isBlank()).orElse(DEFAULT_TIMEOUT), 's')) : timeout;
        return new FilterSettings(all, t, failOpen);
    }
}
