package org.estafeta.transport.pipe.internal;

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

/** A plugin context over a map of parameters, a fixed UTC clock, and a logger that keeps its WARNING lines. */
final class TestContext implements PluginContext {
    final Map<String, String> params = new HashMap<>();
    final List<String> warnings = new ArrayList<>();
    Clock clock = Clock.fixed(Instant.parse("2003-01-07T12:02:20Z"), ZoneOffset.UTC);

    TestContext with(String name, String value) {
        params.put(name, value);
        return this;
    }

    @Override
    public Optional<String> parameter(String name) {
        return Optional.ofNullable(params.get(name));
    }

    @Override
    public Clock clock() {
        return clock;
    }

    @Override
    public System.Logger logger() {
        return new System.Logger() {
            @Override
            public String getName() {
                return "pipe";
            }

            @Override
            public boolean isLoggable(Level level) {
                return true;
            }

            @Override
            public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
                if (level == Level.WARNING) {
                    synchronized (warnings) {
                        warnings.add(msg);
                    }
                }
            }

            @Override
            public void log(Level level, ResourceBundle bundle, String format, Object... params) {
                String text = params == null || params.length == 0 ? format : java.text.MessageFormat.format(format, params);
                log(level, bundle, text, (Throwable) null);
            }
        };
    }
}
