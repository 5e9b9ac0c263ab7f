package org.estafeta.testing;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ResourceBundle;
import org.estafeta.api.plugin.PluginContext;

/** A plugin context for tests: a clock moved by hand and a logger that keeps its WARNING lines. */
public final class FakePluginContext implements PluginContext {
    public long millis = 1_000_000;
    public final List<String> warnings = new ArrayList<>();
    /** Every line logged, as {@code LEVEL text} (e.g. {@code WARNING missing ...}). */
    private final List<String> lines = new ArrayList<>();
    /** The parameters {@link #parameter} answers from (none unless a test puts some). */
    public final java.util.Map<String, String> parameters = new java.util.concurrent.ConcurrentHashMap<>();

    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    };

    private final System.Logger logger = new System.Logger() {
        @Override
        public String getName() {
            return "test";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            record(level, msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            record(level, params == null || params.length == 0 ? format
                    : java.text.MessageFormat.format(format, params));
        }

        private void record(Level level, String msg) {
            synchronized (lines) {
                lines.add(level + " " + msg);
            }
            if (level == Level.WARNING) {
                synchronized (warnings) {
                    warnings.add(msg);
                }
            }
        }
    };

    /** A context without parameters. */
    public FakePluginContext() {
    }

    /** A context answering these parameters ({@code name, value, name, value ...}). */
    public FakePluginContext(String... nameValue) {
        for (int i = 0; i + 1 < nameValue.length; i += 2) {
            parameters.put(nameValue[i], nameValue[i + 1]);
        }
    }

    /** Every line logged so far, as {@code LEVEL text}, in order. */
    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    @Override
    public System.Logger logger() {
        return logger;
    }

    @Override
    public Optional<String> parameter(String name) {
        return Optional.ofNullable(parameters.get(name));
    }

    @Override
    public Clock clock() {
        return clock;
    }
}
