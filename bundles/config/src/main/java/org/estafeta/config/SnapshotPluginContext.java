package org.estafeta.config;

import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

import org.estafeta.api.plugin.PluginContext;
import org.slf4j.LoggerFactory;

/**
 * The {@link PluginContext} core bundles hand their plugins: a logger whose lines reach the maillog under the
 * calling component's program name, main.cf of one snapshot (the one the work started with), and a clock. One
 * implementation for every extension point, so that all plugins see the same thing.
 */
public final class SnapshotPluginContext implements PluginContext {
    private final ConfigSnapshot snapshot;
    private final System.Logger logger;
    private final Clock clock;

    /**
     * @param snapshot the configuration the plugin's parameters come from; null when none is loaded yet (no parameters)
     * @param loggerName the program name the plugin's log lines carry ({@code tables}, {@code smtpd} …)
     * @param clock the clock to hand out
     */
    public SnapshotPluginContext(ConfigSnapshot snapshot, String loggerName, Clock clock) {
        this.snapshot = snapshot;
        this.logger = new Slf4jSystemLogger(loggerName, LoggerFactory.getLogger(loggerName));
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public SnapshotPluginContext(ConfigSnapshot snapshot, String loggerName) {
        this(snapshot, loggerName, Clock.systemDefaultZone());
    }

    @Override
    public System.Logger logger() {
        return logger;
    }

    @Override
    public Optional<String> parameter(String name) {
        return snapshot == null ? Optional.empty() : snapshot.get(name);
    }

    @Override
    public Clock clock() {
        return clock;
    }
}
