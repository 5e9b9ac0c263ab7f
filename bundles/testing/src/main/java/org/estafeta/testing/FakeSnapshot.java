package org.estafeta.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigValues;
import org.estafeta.config.ConfigSource;
import org.estafeta.config.ConfigWarning;
import org.estafeta.config.MasterEntry;

/**
 * A {@link ConfigSnapshot} for unit tests: a map of already expanded values, nothing else (no expansion, no
 * built-in defaults). Parameters not in the map are unknown, as they are to a registry that does not list them.
 * The typed readers are as strict as the real snapshot: {@link #bool} takes only {@code yes}/{@code no},
 * {@link #integer} and {@link #seconds} throw naming the parameter, with Postfix's texts.
 * <p>
 * This is a fake for unit tests only; interop and integration tests read real files with
 * {@link org.estafeta.config.ConfigLoader}. Tests may subclass it to make one method misbehave.
 */
public class FakeSnapshot implements ConfigSnapshot {
    private final Map<String, String> params;
    private final List<MasterEntry> services;
    private final long generation;

    /** What {@link #warnings()} returns; tests set it. */
    public List<ConfigWarning> warnings = List.of();

    public FakeSnapshot(Map<String, String> params, List<MasterEntry> services, long generation) {
        this.params = new TreeMap<>(params);
        this.services = List.copyOf(services);
        this.generation = generation;
    }

    /** Generation 1, no master.cf entries. */
    public FakeSnapshot(Map<String, String> params) {
        this(params, List.of(), 1);
    }

    /** Generation 1, no master.cf entries, parameters given as name, value, name, value, ... */
    public static FakeSnapshot of(String... nameValuePairs) {
        if (nameValuePairs.length % 2 != 0) {
            throw new IllegalArgumentException("odd number of names and values: " + Arrays.toString(nameValuePairs));
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            params.put(nameValuePairs[i], nameValuePairs[i + 1]);
        }
        return new FakeSnapshot(params);
    }

    /** A master.cf entry ({@code n - n - -} columns, line 1 of {@code master.cf}) with these {@code -o} overrides. */
    public static MasterEntry entry(String service, String type, String command, Map<String, String> overrides) {
        return new MasterEntry(service, type, "n", "-", "n", "-", "-", command, overrides, List.of(), "master.cf", 1);
    }

    /** An smtpd {@code inet} master.cf entry with this maxproc column and no overrides. */
    public static MasterEntry inet(String service, String maxproc) {
        return new MasterEntry(service, "inet", "n", "-", "n", "-", maxproc, "smtpd", Map.of(), List.of(),
                "/test/master.cf", 12);
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
        return get(name).orElseThrow(() -> new IllegalArgumentException("no default for " + name));
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
        return ConfigValues.bool(name, value(name));
    }

    @Override
    public long integer(String name) {
        return ConfigValues.integer(name, value(name));
    }

    /** Seconds, with Postfix's time units {@code s m h d w}; a bare number is seconds. */
    @Override
    public long seconds(String name) {
        return ConfigValues.seconds(name, value(name), 's');
    }

    @Override
    public List<String> list(String name) {
        return get(name).map(ConfigValues::list).orElse(List.of());
    }

    @Override
    public List<String> explicitNames() {
        return List.copyOf(params.keySet()); // sorted: params is a TreeMap
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
        return warnings;
    }

    @Override
    public Map<String, String> effectiveValues() {
        return Collections.unmodifiableMap(params);
    }

    /**
     * A {@link ConfigSource} whose snapshot the test replaces with {@link #publish}, telling the listeners.
     * {@link #reload()} publishes {@link #nextReload}, or throws {@link #reloadError} if that is set.
     */
    public static final class Source implements ConfigSource {
        private volatile ConfigSnapshot current;
        private final List<Consumer<ConfigSnapshot>> listeners = new ArrayList<>();

        /** What the next reload() does: publish this snapshot, or throw this exception. */
        public volatile ConfigSnapshot nextReload;
        public volatile ConfigException reloadError;

        public Source(ConfigSnapshot current) {
            this.current = current;
        }

        @Override
        public ConfigSnapshot current() {
            return current;
        }

        @Override
        public ConfigSnapshot reload() throws ConfigException {
            if (reloadError != null) {
                throw reloadError;
            }
            publish(nextReload);
            return nextReload;
        }

        /** Makes {@code next} current and hands it to every listener. */
        public void publish(ConfigSnapshot next) {
            current = next;
            List<Consumer<ConfigSnapshot>> copy;
            synchronized (this) {
                copy = new ArrayList<>(listeners);
            }
            copy.forEach(l -> l.accept(next));
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
