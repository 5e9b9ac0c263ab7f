package org.estafeta.config.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigValues;
import org.estafeta.config.ConfigWarning;
import org.estafeta.config.MasterEntry;

/**
 * The immutable snapshot: main.cf settings, master.cf entries, built-in defaults, and every value expanded once at
 * load time (so that loops and syntax errors are found when the files are read, not when mail flows).
 */
public final class Snapshot implements ConfigSnapshot {

    /** What one reading of the files produced; shared by the global snapshot and its per-service snapshots. */
    record Files(Path configDirectory, Path varDirectory, long generation, String mainFile, String masterFile,
            Map<String, MainCf.Setting> main, List<MasterCf.Parsed> services, List<ConfigWarning> warnings) {
    }

    private final Files files;
    /** -o overrides and the read-only per-service names; empty for the global snapshot. */
    private final Map<String, String> overrides;
    private final MasterCf.Parsed service;
    private final Map<String, String> computedDefaults = new HashMap<>();
    private final Map<String, String> expanded;
    private final Map<MasterEntry, Snapshot> serviceSnapshots;
    private final List<MasterEntry> entries;
    /** The global snapshot of a per-service snapshot; itself for the global one. */
    private final Snapshot global;

    /** Builds and validates the global snapshot and one snapshot per master.cf entry. */
    static Snapshot create(Files files) throws ConfigException {
        Snapshot global = new Snapshot(files, null, null);
        Map<MasterEntry, Snapshot> perService = global.serviceSnapshots;
        for (MasterCf.Parsed p : files.services()) {
            perService.putIfAbsent(p.entry(), new Snapshot(files, p, global));
        }
        return global;
    }

    private Snapshot(Files files, MasterCf.Parsed service, Snapshot global) throws ConfigException {
        this.files = files;
        this.global = global == null ? this : global;
        this.service = service;
        Map<String, String> o = new LinkedHashMap<>();
        if (service != null) {
            o.putAll(service.entry().overrides());
            String command = service.entry().command();
            String process = command.substring(command.lastIndexOf('/') + 1);
            o.put("process_name", process);
            o.put("service_name", service.entry().service());
        }
        this.overrides = Collections.unmodifiableMap(o);
        this.entries = files.services().stream().map(MasterCf.Parsed::entry).toList();
        this.serviceSnapshots = service == null ? new LinkedHashMap<>() : Map.of();
        Map<String, String> values = new HashMap<>();
        for (String name : allNames()) {
            try {
                values.put(name, new Expander.Session(scope).expandParameter(name));
            } catch (Expander.Loop loop) {
                throw loopError(loop.cycle);
            } catch (Expander.SyntaxError e) {
                throw locate(List.of(name), "parameter " + name + ": " + e.getMessage());
            }
        }
        values.values().removeIf(v -> v == null);
        this.expanded = Collections.unmodifiableMap(values);
    }

    private Set<String> allNames() {
        Set<String> names = new TreeSet<>(BuiltinParameters.names());
        names.addAll(files.main().keySet());
        names.addAll(overrides.keySet());
        return names;
    }

    /**
     * A loop is reported at the member of the cycle that comes first in the files (master.cf -o before main.cf,
     * then by line), and the cycle is shown starting there, so the message does not depend on expansion order.
     */
    private ConfigException loopError(List<String> cycle) {
        List<String> members = cycle.subList(0, cycle.size() - 1);
        int best = 0;
        long bestKey = Long.MAX_VALUE;
        for (int i = 0; i < members.size(); i++) {
            String n = members.get(i);
            long key;
            if (service != null && service.overrideLines().containsKey(n)) {
                key = service.overrideLines().get(n);
            } else if (files.main().containsKey(n) && files.main().get(n).line() > 0) {
                key = 1_000_000_000L + files.main().get(n).line();
            } else {
                key = Long.MAX_VALUE - 1;
            }
            if (key < bestKey) {
                bestKey = key;
                best = i;
            }
        }
        List<String> rotated = new java.util.ArrayList<>(members.subList(best, members.size()));
        rotated.addAll(members.subList(0, best));
        rotated.add(rotated.get(0));
        String message = "unreasonable macro call nesting: "
                + String.join(" -> ", rotated.stream().map(n -> "$" + n).toList());
        return locate(rotated, message);
    }

    /** A ConfigException at the file and line of the first of {@code names} that is set in a file. */
    private ConfigException locate(List<String> names, String message) {
        for (String n : names) {
            if (service != null && service.overrideLines().containsKey(n)) {
                return new ConfigException(files.masterFile(), service.overrideLines().get(n), message);
            }
            MainCf.Setting s = files.main().get(n);
            if (s != null) {
                return new ConfigException(files.mainFile(), s.line(), message);
            }
        }
        if (service != null) {
            return new ConfigException(files.masterFile(), service.entry().line(), message);
        }
        return new ConfigException(files.mainFile(), 0, message);
    }

    private final Expander.Scope scope = new Expander.Scope() {
        @Override
        public String raw(String name, Expander.Session session) {
            String v = explicitValue(name);
            if (v != null) {
                return v;
            }
            BuiltinParameters.Parameter p = BuiltinParameters.find(name);
            if (p == null) {
                return null;
            }
            if (!p.computed()) {
                return p.defaultValue().apply(null);
            }
            synchronized (computedDefaults) {
                String c = computedDefaults.get(name);
                if (c == null) {
                    c = session.withFrame(name, () -> p.defaultValue().apply(context(session)));
                    computedDefaults.put(name, c);
                }
                return c;
            }
        }

        @Override
        public boolean isRaw(String name) {
            return BuiltinParameters.RAW.contains(name);
        }
    };

    private BuiltinParameters.Context context(Expander.Session session) {
        return new BuiltinParameters.Context() {
            @Override
            public String expand(String name) {
                return session.expandParameter(name);
            }

            @Override
            public String explicitExpanded(String name) {
                return explicitValue(name) == null ? null : session.expandParameter(name);
            }

            @Override
            public Path configDirectory() {
                return files.configDirectory();
            }

            @Override
            public Path varDirectory() {
                return files.varDirectory();
            }
        };
    }

    private String explicitValue(String name) {
        String v = overrides.get(name);
        if (v != null) {
            return v;
        }
        MainCf.Setting s = files.main().get(name);
        return s == null ? null : s.value();
    }

    // ---- ConfigSnapshot ----

    @Override
    public Path configDirectory() {
        return files.configDirectory();
    }

    @Override
    public long generation() {
        return files.generation();
    }

    @Override
    public Optional<String> get(String name) {
        return Optional.ofNullable(expanded.get(name));
    }

    @Override
    public String value(String name) {
        String v = expanded.get(name);
        if (v == null) {
            throw new IllegalArgumentException("parameter " + name + " has no built-in default and is not set");
        }
        return v;
    }

    @Override
    public Optional<String> raw(String name) {
        return Optional.ofNullable(rawValue(name));
    }

    /** The value as written, or the default as Postfix writes it (a computed default is shown computed). */
    public String rawValue(String name) {
        String v = explicitValue(name);
        if (v != null) {
            return v;
        }
        BuiltinParameters.Parameter p = BuiltinParameters.find(name);
        if (p == null) {
            return null;
        }
        if (!p.computed()) {
            return p.defaultValue().apply(null);
        }
        synchronized (computedDefaults) {
            return computedDefaults.get(name); // computed at construction
        }
    }

    @Override
    public boolean isExplicit(String name) {
        return explicitValue(name) != null;
    }

    @Override
    public boolean bool(String name) {
        return ConfigValues.bool(name, value(name));
    }

    @Override
    public long integer(String name) {
        return ConfigValues.integer(name, value(name));
    }

    @Override
    public long seconds(String name) {
        BuiltinParameters.Parameter p = BuiltinParameters.find(name);
        return ConfigValues.seconds(name, value(name), p != null && p.timeUnit() != 0 ? p.timeUnit() : 's');
    }

    @Override
    public List<String> list(String name) {
        return ConfigValues.list(get(name).orElse(""));
    }

    @Override
    public List<String> explicitNames() {
        Set<String> names = new TreeSet<>(files.main().keySet());
        if (service != null) {
            names.addAll(service.entry().overrides().keySet());
        }
        return List.copyOf(names);
    }

    @Override
    public List<MasterEntry> services() {
        return entries;
    }

    @Override
    public ConfigSnapshot forService(MasterEntry entry) {
        Snapshot s = global.serviceSnapshots.get(entry);
        if (s != null) {
            return s;
        }
        try {
            return new Snapshot(files, new MasterCf.Parsed(entry, List.of(), Map.of()), global);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    @Override
    public List<ConfigWarning> warnings() {
        return files.warnings();
    }

    @Override
    public Map<String, String> effectiveValues() {
        return Collections.unmodifiableMap(new TreeMap<>(expanded));
    }

    // ---- for postconf ----

    public List<MasterCf.Parsed> parsedServices() {
        return files.services();
    }

    public String mainFile() {
        return files.mainFile();
    }

    /** A snapshot of the built-in defaults only (main.cf and master.cf ignored), as {@code postconf -d} shows them. */
    public Snapshot defaultsOnly() throws ConfigException {
        return new Snapshot(new Files(files.configDirectory(), files.varDirectory(), files.generation(),
                files.mainFile(), files.masterFile(), Map.of(), List.of(), List.of()), null, null);
    }

    /** The per-service snapshot of an entry of this snapshot, for {@code postconf -Mx}. */
    public Snapshot serviceSnapshot(MasterCf.Parsed p) {
        Snapshot s = serviceSnapshots.get(p.entry());
        return s != null ? s : (Snapshot) forService(p.entry());
    }

    /** Expands text in this snapshot's scope (for {@code postconf -x} on values that are not parameters). */
    public String expandText(String text) {
        return Expander.expand(text, scope);
    }
}
