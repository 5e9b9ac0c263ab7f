package org.estafeta.tables.internal;

import java.time.Clock;
import java.util.Optional;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.config.ConfigSnapshot;
import org.slf4j.LoggerFactory;

/** The context a table plugin gets: the {@code tables} logger, main.cf of one snapshot, the system clock. */
final class SnapshotPluginContext implements PluginContext {
    private final ConfigSnapshot snapshot;
    private final System.Logger logger;
    private final Clock clock;

    SnapshotPluginContext(ConfigSnapshot snapshot, String loggerName, Clock clock) {
        this.snapshot = snapshot;
        this.logger = new Slf4jSystemLogger(loggerName, LoggerFactory.getLogger(loggerName));
        this.clock = clock;
    }

    SnapshotPluginContext(ConfigSnapshot snapshot) {
        this(snapshot, TableRegistry.LOGGER, Clock.systemDefaultZone());
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
