package org.estafeta.sasl.internal;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ResourceBundle;
import org.estafeta.api.plugin.PluginContext;

/** A plugin context over a map of main.cf parameters that keeps every log line ("LEVEL text"). */
final class TestContext implements PluginContext {
    final Map<String, String> parameters = new HashMap<>();
    final List<String> lines = new ArrayList<>();

    TestContext(String... keyValues) {
        for (int i = 0; i < keyValues.length; i += 2) {
            parameters.put(keyValues[i], keyValues[i + 1]);
        }
    }

    synchronized List<String> lines(System.Logger.Level level) {
        return lines.stream().filter(l -> l.startsWith(level.name() + " ")).map(l -> l.substring(level.name().length() + 1))
                .toList();
    }

    @Override
    public System.Logger logger() {
        return new System.Logger() {
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
                synchronized (TestContext.this) {
                    lines.add(level.name() + " " + msg);
                }
            }

            @Override
            public void log(Level level, ResourceBundle bundle, String format, Object... params) {
                log(level, bundle, params == null || params.length == 0 ? format
                        : java.text.MessageFormat.format(format, params), (Throwable) null);
            }
        };
    }

    @Override
    public Optional<String> parameter(String name) {
        return Optional.ofNullable(parameters.get(name));
    }

    @Override
    public Clock clock() {
        return Clock.fixed(Instant.ofEpochSecond(697170952), ZoneOffset.UTC);
    }
}
