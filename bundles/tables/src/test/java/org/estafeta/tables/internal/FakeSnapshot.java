package org.estafeta.tables.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.config.ConfigWarning;
import org.estafeta.config.MasterEntry;

/** A ConfigSnapshot over a map of explicit parameters (no expansion), for unit tests. */
final class FakeSnapshot implements ConfigSnapshot {
    final Map<String, String> params;
    final List<MasterEntry> services;
    final long generation;

    FakeSnapshot(Map<String, String> params, List<MasterEntry> services, long generation) {
        this.params = new TreeMap<>(params);
        this.services = List.copyOf(services);
        this.generation = generation;
    }

    FakeSnapshot(Map<String, String> params) {
        this(params, List.of(), 1);
    }

    static MasterEntry entry(String service, String type, String command, Map<String, String> overrides) {
        return new MasterEntry(service, type, "n", "-", "n", "-", "-", command, overrides, List.of(), "master.cf", 1);
    }

    @Override
    public Path configDirectory() {
        return Path.of("/etc/estafeta");
    }

    @Override
    public long generation() {
        return generation;
    }

    @Override
    public Optional<String> get(String name) {
        return Optional.ofNullable(params.get(name));
    }

    @Override
    public String value(String name) {
        return get(name).orElseThrow(() -> new IllegalArgumentException(name));
    }

    @Override
    public Optional<String> raw(String name) {
        return get(name);
    }

    @Override
    public boolean isExplicit(String name) {
        return params.containsKey(name);
    }

    @Override
    public boolean bool(String name) {
        return "yes".equals(value(name));
    }

    @Override
    public long integer(String name) {
        return Long.parseLong(value(name));
    }

    @Override
    public long seconds(String name) {
        return integer(name);
    }

    @Override
    public List<String> list(String name) {
        return get(name).map(v -> List.of(v.trim().split("[\\s,]+"))).orElse(List.of());
    }

    @Override
    public List<String> explicitNames() {
        return new ArrayList<>(params.keySet());
    }

    @Override
    public List<MasterEntry> services() {
        return services;
    }

    @Override
    public ConfigSnapshot forService(MasterEntry entry) {
        Map<String, String> own = new LinkedHashMap<>(params);
        own.putAll(entry.overrides());
        return new FakeSnapshot(own, services, generation);
    }

    @Override
    public List<ConfigWarning> warnings() {
        return List.of();
    }

    @Override
    public Map<String, String> effectiveValues() {
        return params;
    }

    /** A ConfigSource whose snapshot the test replaces. */
    static final class Source implements ConfigSource {
        volatile ConfigSnapshot current;
        final List<Consumer<ConfigSnapshot>> listeners = new ArrayList<>();

        Source(ConfigSnapshot current) {
            this.current = current;
        }

        @Override
        public ConfigSnapshot current() {
            return current;
        }

        @Override
        public ConfigSnapshot reload() throws ConfigException {
            return current;
        }

        void publish(ConfigSnapshot next) {
            current = next;
            new ArrayList<>(listeners).forEach(l -> l.accept(next));
        }

        @Override
        public synchronized void addListener(Consumer<ConfigSnapshot> listener) {
            listeners.add(listener);
        }

        @Override
        public synchronized void removeListener(Consumer<ConfigSnapshot> listener) {
            listeners.remove(listener);
        }
    }
}
