package org.estafeta.tables.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.tables.TableNames;
import org.estafeta.tables.TableService;
import org.estafeta.tables.UnsupportedTableTypeException;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * tables - the lookup-table registry: tracks {@link LookupTableFactory} services by {@code estafeta.table.type},
 * shares one open table per {@code type:name}, retires tables when their factory goes away or a new
 * configuration is published, and reports table types the configuration names but nobody provides. It provides
 * {@code proxy:}, {@code unionmap:} and {@code pipemap:} itself, because they are made of other tables.
 */
@Component(service = TableService.class, immediate = true)
public final class TableRegistry implements TableService {
    static final String LOGGER = "tables";
    /** The types the registry provides itself: proxy (opened directly), unionmap and pipemap. */
    static final Set<String> BUILT_IN = Set.of("proxy", TableNames.UNIONMAP, TableNames.PIPEMAP);
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    private final Object lock = new Object();
    /** type to its registrations, best first. Guarded by lock. */
    private final Map<String, List<Registration>> factories = new HashMap<>();
    /** spec text to the shared table. Guarded by lock. */
    private final Map<String, SharedTable> cache = new HashMap<>();
    /** problems already logged for the current snapshot. Guarded by lock. */
    private Set<String> reported = Set.of();

    private volatile ConfigSource config;
    /** Set once activated: problems are logged only then, not while the initial factories are being bound. */
    private volatile boolean active;
    private final Consumer<ConfigSnapshot> listener = this::configChanged;

    private record Registration(LookupTableFactory factory, long id, int ranking) {
        boolean betterThan(Registration o) {
            return ranking != o.ranking ? ranking > o.ranking : id < o.id;
        }
    }

    @Reference
    void setConfig(ConfigSource config) {
        this.config = config;
    }

    /**
     * While the framework is still starting, table bundles are still registering their types: a reference to a type
     * that is simply not registered yet is not reported then, only once the framework has started (and at every
     * later change), so that a normal start logs no false "unsupported dictionary type" error.
     */
    private volatile boolean frameworkStarted = true;
    private org.osgi.framework.FrameworkListener startedListener;
    private org.osgi.framework.BundleContext context;

    @Activate
    void activate(org.osgi.framework.BundleContext ctx) {
        context = ctx;
        if (ctx != null && ctx.getBundle(0).getState() != org.osgi.framework.Bundle.ACTIVE) {
            frameworkStarted = false;
            startedListener = e -> {
                if (e.getType() == org.osgi.framework.FrameworkEvent.STARTED) {
                    frameworkStarted = true;
                    recheckCurrent();
                }
            };
            ctx.addFrameworkListener(startedListener);
            if (ctx.getBundle(0).getState() == org.osgi.framework.Bundle.ACTIVE) {
                frameworkStarted = true; // started while the listener was being added
            }
        }
        ConfigSource source = config;
        active = true;
        source.addListener(listener);
        recheck(source.current());
    }

    /** For tests without a framework. */
    void activate() {
        activate(null);
    }

    @Deactivate
    void deactivate() {
        active = false;
        if (context != null && startedListener != null) {
            try {
                context.removeFrameworkListener(startedListener);
            } catch (IllegalStateException e) {
                // the bundle is stopping
            }
        }
        ConfigSource source = config;
        if (source != null) {
            source.removeListener(listener);
        }
        List<SharedTable> all;
        synchronized (lock) {
            all = new ArrayList<>(cache.values());
            cache.clear();
        }
        all.forEach(SharedTable::retire);
    }

    @Reference(service = LookupTableFactory.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "removeFactory", updated = "updatedFactory")
    void addFactory(LookupTableFactory factory, Map<String, Object> properties) {
        Registration reg = new Registration(factory, longProperty(properties.get(Constants.SERVICE_ID)),
                (int) longProperty(properties.get(Constants.SERVICE_RANKING)));
        List<String> types = types(properties.get(LookupTableFactory.TYPE));
        if (types.isEmpty()) {
            log.warn("ignoring a LookupTableFactory service without the property {} (service.id {})",
                    LookupTableFactory.TYPE, reg.id());
            return;
        }
        synchronized (lock) {
            for (String type : types) {
                List<Registration> list = factories.computeIfAbsent(type, t -> new ArrayList<>());
                int at = 0;
                while (at < list.size() && list.get(at).betterThan(reg)) {
                    at++;
                }
                list.add(at, reg);
                log.info("dictionary type {} is available", type);
            }
        }
        recheckCurrent();
    }

    void removeFactory(LookupTableFactory factory, Map<String, Object> properties) {
        List<SharedTable> retired = new ArrayList<>();
        synchronized (lock) {
            for (var it = factories.entrySet().iterator(); it.hasNext();) {
                var e = it.next();
                if (e.getValue().removeIf(r -> r.factory() == factory)) {
                    log.info("dictionary type {} went away", e.getKey());
                }
                if (e.getValue().isEmpty()) {
                    it.remove();
                }
            }
            for (var it = cache.values().iterator(); it.hasNext();) {
                SharedTable t = it.next();
                if (t.factory == factory) {
                    t.gone = true;
                    retired.add(t);
                    it.remove();
                }
            }
        }
        retired.forEach(SharedTable::retire);
        recheckCurrent();
    }

    void updatedFactory(LookupTableFactory factory, Map<String, Object> properties) {
        removeFactory(factory, properties);
        addFactory(factory, properties);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Besides the types of the factories, the registry itself provides {@code proxy:type:name} (opened as
     * {@code type:name}: Estafeta has no proxymap process, every table is already shared in-process, so
     * {@code proxy:hash:/x} and {@code hash:/x} are one shared table), and {@code unionmap:{...}} and
     * {@code pipemap:{...}}, whose inner tables are opened through this method (see {@link Composites}).
     */
    @Override
    public LookupTable open(String text) throws TableOpenException {
        TableSpec spec;
        try {
            spec = TableSpec.parse(TableNames.unproxied(Objects.requireNonNull(text, "spec")));
        } catch (IllegalArgumentException e) {
            throw new TableOpenException(e.getMessage());
        }
        if (Composites.isComposite(spec.type())) {
            return Composites.open(spec.type(), spec.name(), this::open);
        }
        return new Handle(this, acquire(spec));
    }

    /**
     * The shared table of {@code spec} from the factory registered now, opened and acquired for one more handle:
     * the cached one, or a new one when there is none or a better (or newer) factory took over — the old one is
     * marked gone, so that its handles move on, and retired. Used by {@link #open} and by a {@link Handle} whose
     * factory went away.
     */
    private SharedTable acquire(TableSpec spec) throws TableOpenException {
        String key = spec.toString();
        SharedTable shared;
        SharedTable replaced = null;
        synchronized (lock) {
            List<Registration> regs = factories.get(spec.type());
            if (regs == null || regs.isEmpty()) {
                throw new UnsupportedTableTypeException(spec.type());
            }
            LookupTableFactory best = regs.get(0).factory();
            shared = cache.get(key);
            if (shared == null || shared.factory != best) {
                replaced = shared;
                if (replaced != null) {
                    replaced.gone = true;
                }
                ConfigSource source = config;
                shared = new SharedTable(spec, best, new org.estafeta.config.SnapshotPluginContext(source == null ? null : source.current(), LOGGER));
                cache.put(key, shared);
            }
            shared.acquire();
        }
        if (replaced != null) {
            replaced.retire();
        }
        try {
            shared.ensureOpen();
        } catch (TableOpenException | RuntimeException e) {
            shared.release();
            synchronized (lock) {
                cache.remove(key, shared);
            }
            if (e instanceof TableOpenException t) {
                throw t;
            }
            log.error("{}: the table plugin failed while opening: {}", key, e.toString(), e);
            throw new TableOpenException(key + ": cannot open: " + e, e);
        }
        return shared;
    }

    /** The registered types and the registry's own {@link #BUILT_IN} types. */
    @Override
    public Set<String> types() {
        synchronized (lock) {
            Set<String> all = new TreeSet<>(factories.keySet());
            all.addAll(BUILT_IN);
            return all;
        }
    }

    @Override
    public List<String> problems(ConfigSnapshot snapshot) {
        Set<String> present = types();
        return TableReferences.problems(snapshot, present::contains);
    }

    /** How many tables are open and shared right now (for tests and diagnostics). */
    int cachedTables() {
        synchronized (lock) {
            return cache.size();
        }
    }

    private void configChanged(ConfigSnapshot snapshot) {
        List<SharedTable> retired;
        synchronized (lock) {
            retired = new ArrayList<>(cache.values());
            cache.clear();
        }
        // New work opens tables with a context of the new snapshot; work in flight keeps its handles.
        retired.forEach(SharedTable::retire);
        recheck(snapshot);
    }

    private void recheckCurrent() {
        ConfigSource source = config;
        if (active && source != null) {
            recheck(source.current());
        }
    }

    /** Logs each problem of {@code snapshot} once (again after it was fixed and came back). */
    private void recheck(ConfigSnapshot snapshot) {
        if (!frameworkStarted) {
            return;
        }
        List<String> now;
        try {
            now = problems(snapshot);
        } catch (RuntimeException e) {
            log.error("cannot check the table references of the configuration: {}", e.toString(), e);
            return;
        }
        List<String> fresh = new ArrayList<>();
        synchronized (lock) {
            for (String p : now) {
                if (!reported.contains(p)) {
                    fresh.add(p);
                }
            }
            reported = new LinkedHashSet<>(now);
        }
        fresh.forEach(log::error);
    }

    private static long longProperty(Object value) {
        return value instanceof Number ? ((Number) value).longValue() : 0L;
    }

    static List<String> types(Object value) {
        List<String> out = new ArrayList<>();
        if (value instanceof String) {
            out.add((String) value);
        } else if (value instanceof String[]) {
            out.addAll(List.of((String[]) value));
        } else if (value instanceof Collection) {
            for (Object o : (Collection<?>) value) {
                out.add(String.valueOf(o));
            }
        }
        out.removeIf(t -> t == null || t.isBlank());
        return out;
    }

    /** One open table shared by every handle on it; closed once retired and released by its last handle. */
    private static final class SharedTable {
        final TableSpec spec;
        final LookupTableFactory factory;
        final PluginContext context;
        private LookupTable table;
        private int handles;
        private boolean retired;
        private boolean closed;
        /** Its factory went away or was superseded: handles on it must move to a table of the current factory. */
        volatile boolean gone;

        SharedTable(TableSpec spec, LookupTableFactory factory, PluginContext context) {
            this.spec = spec;
            this.factory = factory;
            this.context = context;
        }

        synchronized void acquire() {
            handles++;
        }

        synchronized void ensureOpen() throws TableOpenException {
            if (table != null) {
                return;
            }
            if (retired) {
                throw new TableOpenException(spec + ": dictionary type " + spec.type() + " went away while opening");
            }
            LookupTable opened = factory.open(spec, context);
            if (opened == null) {
                throw new TableOpenException(spec + ": the " + spec.type() + " table plugin returned no table");
            }
            table = opened;
        }

        synchronized LookupTable table() {
            return table;
        }

        synchronized void release() {
            handles--;
            if (retired && handles == 0) {
                close();
            }
        }

        synchronized void retire() {
            retired = true;
            if (handles == 0) {
                close();
            }
        }

        private void close() {
            if (closed || table == null) {
                return;
            }
            closed = true;
            try {
                table.close();
            } catch (RuntimeException e) {
                log.warn("{}: error while closing: {}", spec, e.toString());
            }
        }
    }

    /**
     * The caller's handle on a shared table. Lookups never throw; close releases this handle only. When the table's
     * factory goes away (its bundle was removed or replaced by a new version), the next lookup moves the handle to
     * a table of the factory registered now, or answers a temporary failure while there is none: mail that needs
     * the table waits, and is never served by a plugin that is no longer installed.
     */
    private static final class Handle implements LookupTable {
        private final TableRegistry registry;
        private SharedTable shared;
        private LookupTable table;
        private boolean closed;

        Handle(TableRegistry registry, SharedTable shared) {
            this.registry = registry;
            this.shared = shared;
            this.table = shared.table();
        }

        @Override
        public LookupResult lookup(String key) {
            SharedTable current;
            LookupTable t;
            synchronized (this) {
                if (closed) {
                    return LookupResult.temporaryFailure(shared.spec + ": lookup after close");
                }
                if (shared.gone) {
                    try {
                        SharedTable fresh = registry.acquire(shared.spec);
                        SharedTable old = shared;
                        shared = fresh;
                        table = fresh.table();
                        old.release();
                    } catch (UnsupportedTableTypeException e) {
                        return LookupResult.temporaryFailure(shared.spec + ": dictionary type " + shared.spec.type()
                                + " went away: " + e.getMessage());
                    } catch (TableOpenException e) {
                        return LookupResult.temporaryFailure(e.getMessage());
                    }
                }
                current = shared;
                t = table;
            }
            try {
                LookupResult result = t.lookup(key);
                if (result == null) {
                    log.error("{}: bug in the {} table plugin: lookup returned null", current.spec, current.spec.type());
                    return LookupResult.temporaryFailure(current.spec + ": table plugin returned no result");
                }
                return result;
            } catch (RuntimeException e) {
                log.error("{}: bug in the {} table plugin: lookup threw {}", current.spec, current.spec.type(),
                        e.toString(), e);
                return LookupResult.temporaryFailure(current.spec + ": " + e);
            }
        }

        @Override
        public void close() {
            SharedTable s;
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                s = shared;
            }
            s.release();
        }

        @Override
        public synchronized String toString() {
            return shared.spec.toString();
        }
    }
}
