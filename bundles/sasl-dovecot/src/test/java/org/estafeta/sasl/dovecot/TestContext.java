package org.estafeta.sasl.dovecot;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ResourceBundle;

import org.estafeta.api.plugin.PluginContext;

/** A plugin context with main.cf parameters set by the test and a logger that keeps its lines. */
final class TestContext implements PluginContext {
    final Map<String, String> parameters = new HashMap<>();
    private final List<String> lines = new ArrayList<>();

    private final System.Logger logger = new System.Logger() {
        @Override
        public String getName() {
            return "sasl-dovecot";
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
    };

    TestContext(String... nameValue) {
        for (int i = 0; i < nameValue.length; i += 2) {
            parameters.put(nameValue[i], nameValue[i + 1]);
        }
    }

    private void record(System.Logger.Level level, String msg) {
        synchronized (lines) {
            lines.add(level + " " + msg);
        }
    }

    List<String> lines() {
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
        return Clock.systemUTC();
    }
}
