package org.estafeta.config.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.config.ConfigWarning;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ConfigSource} service. It reads the directory named by the framework property
 * {@value ConfigSource#CONFIG_DIRECTORY_PROPERTY} when it activates (and does not activate when that reading
 * fails), and swaps snapshots atomically on {@link #reload()}.
 */
@Component(service = ConfigSource.class, immediate = true)
public final class ConfigSourceComponent implements ConfigSource {
    private static final Logger LOG = LoggerFactory.getLogger("config");

    private final Path configDir;
    private final Path varDir;
    private final List<Consumer<ConfigSnapshot>> listeners = new CopyOnWriteArrayList<>();
    private volatile ConfigSnapshot current;

    @Activate
    public ConfigSourceComponent(BundleContext context) throws ConfigException {
        this(property(context, CONFIG_DIRECTORY_PROPERTY), property(context, VAR_DIRECTORY_PROPERTY));
    }

    /** For use outside OSGi and in tests: reads the files now, and throws when they are broken. */
    public ConfigSourceComponent(Path configDir, Path varDir) throws ConfigException {
        this.configDir = configDir.toAbsolutePath().normalize();
        this.varDir = varDir.toAbsolutePath().normalize();
        try {
            this.current = Loader.load(this.configDir, this.varDir, 1, null);
        } catch (ConfigException e) {
            LOG.error("{}", e.getMessage());
            throw e;
        }
        logWarnings(current);
        LOG.info("configuration {} loaded (generation 1)", this.configDir);
    }

    private static Path property(BundleContext context, String name) {
        String v = context.getProperty(name);
        if (v == null || v.isBlank()) {
            LOG.error("framework property {} is not set", name);
            throw new IllegalStateException("framework property " + name + " is not set");
        }
        return Path.of(v);
    }

    @Override
    public ConfigSnapshot current() {
        return current;
    }

    @Override
    public ConfigSnapshot reload() throws ConfigException {
        ConfigSnapshot next;
        synchronized (this) {
            try {
                next = Loader.load(configDir, varDir, current.generation() + 1, null);
            } catch (ConfigException e) {
                LOG.error("{}; keeping the previous configuration (generation {})", e.getMessage(),
                        current.generation());
                throw e;
            }
            current = next;
        }
        logWarnings(next);
        LOG.info("reloaded configuration {} (generation {})", configDir, next.generation());
        for (Consumer<ConfigSnapshot> l : listeners) {
            try {
                l.accept(next);
            } catch (RuntimeException e) {
                LOG.error("configuration listener {} failed: {}", l, e.toString());
            }
        }
        return next;
    }

    private static void logWarnings(ConfigSnapshot s) {
        for (ConfigWarning w : s.warnings()) {
            LOG.warn("{}", w);
        }
    }

    @Override
    public void addListener(Consumer<ConfigSnapshot> listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(Consumer<ConfigSnapshot> listener) {
        listeners.remove(listener);
    }
}
