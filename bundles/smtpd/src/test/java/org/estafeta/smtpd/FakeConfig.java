package org.estafeta.smtpd;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigWarning;
import org.estafeta.config.MasterEntry;

/**
 * A hand-made {@link ConfigSnapshot} for tests: a map of already expanded values, nothing else. Parameters not in
 * the map are unknown, as they are to a registry that does not list them.
 */
final class FakeConfig implements ConfigSnapshot {
    private final Map<String, String> values = new LinkedHashMap<>();

    static FakeConfig of(String... nameValuePairs) {
        FakeConfig config = new FakeConfig();
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            config.values.put(nameValuePairs[i], nameValuePairs[i + 1]);
        }
        return config;
    }

    static MasterEntry inet(String service, String maxproc) {
        return new MasterEntry(service, "inet", "n", "-", "n", "-", maxproc, "smtpd", Map.of(), List.of(),
                "/test/master.cf", 12);
    }

    @Override
    public Path configDirectory() {
        return Path.of("/test");
    }

    @Override
    public long generation() {
        return 1;
    }

    @Override
    public Optional<String> get(String name) {
        return Optional.ofNullable(values.get(name));
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
        return values.containsKey(name);
    }

    @Override
    public boolean bool(String name) {
        String v = value(name);
        if (v.equalsIgnoreCase("yes")) {
            return true;
        }
        if (v.equalsIgnoreCase("no")) {
            return false;
        }
        throw new IllegalArgumentException("bad boolean configuration: " + name + " = " + v);
    }

    @Override
    public long integer(String name) {
        String v = value(name);
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad numerical configuration: " + name + " = " + v);
        }
    }

    @Override
    public long seconds(String name) {
        String v = value(name).trim();
        long unit = switch (v.isEmpty() ? ' ' : v.charAt(v.length() - 1)) {
            case 's' -> 1;
            case 'm' -> 60;
            case 'h' -> 3600;
            case 'd' -> 86400;
            case 'w' -> 604800;
            default -> 0;
        };
        String number = unit == 0 ? v : v.substring(0, v.length() - 1);
        try {
            return Long.parseLong(number) * (unit == 0 ? 1 : unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad time configuration: " + name + " = " + v);
        }
    }

    @Override
    public List<String> list(String name) {
        return get(name).map(v -> Arrays.stream(v.split("[\\s,]+")).filter(s -> !s.isEmpty()).toList()).orElse(List.of());
    }

    @Override
    public List<String> explicitNames() {
        return List.copyOf(new TreeMap<>(values).keySet());
    }

    @Override
    public List<MasterEntry> services() {
        return List.of();
    }

    @Override
    public ConfigSnapshot forService(MasterEntry entry) {
        FakeConfig copy = new FakeConfig();
        copy.values.putAll(values);
        copy.values.putAll(entry.overrides());
        return copy;
    }

    @Override
    public List<ConfigWarning> warnings() {
        return List.of();
    }

    @Override
    public Map<String, String> effectiveValues() {
        return Map.copyOf(values);
    }
}
