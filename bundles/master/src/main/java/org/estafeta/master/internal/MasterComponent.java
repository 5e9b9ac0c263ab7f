package org.estafeta.master.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.master.daemon.Daemon;
import org.estafeta.queue.QueueStore;
import org.estafeta.tables.TableService;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
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
 * master - Estafeta's master process: runs one instance per master.cf entry through the registered
 * {@link Daemon} services, follows reloads and daemons that come and go, and serves the control socket at
 * {@code $queue_directory/private/control}.
 */
@Component(immediate = true, service = {})
public final class MasterComponent implements ControlCommands.Master {
    static final String LOGGER = "master";
    /** How long a stop (of one daemon, or of the whole master) may take before the caller stops waiting. */
    static final long STOP_TIMEOUT_MILLIS = 30_000;

    private final Logger log = LoggerFactory.getLogger(LOGGER);
    private final Supervisor supervisor = new Supervisor(log, STOP_TIMEOUT_MILLIS);
    private final Consumer<ConfigSnapshot> listener = supervisor::configure;

    @Reference
    private ConfigSource config;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile TableService tables;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile QueueStore queue;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile org.estafeta.queue.QueueFlush flush;

    private BundleContext context;
    private ControlServer control;

    @Activate
    void activate(BundleContext context) {
        this.context = context;
        config.addListener(listener); // first, so that no snapshot published from now on is missed
        ConfigSnapshot snapshot = config.current();
        // Postfix logs $mail_version here; so do we, so that the banner, postconf and the log agree
        log.info("daemon started -- version {}, configuration {}",
                snapshot.get("mail_version").orElse(context.getBundle().getVersion().toString()),
                snapshot.configDirectory());
        supervisor.configure(snapshot);
        control = startControl(snapshot);
    }

    @Deactivate
    void deactivate() {
        config.removeListener(listener);
        if (control != null) {
            control.close();
            control = null;
        }
        supervisor.shutdown();
        log.info("daemon stopped");
    }

    private ControlServer startControl(ConfigSnapshot snapshot) {
        Optional<String> queue = snapshot.get("queue_directory");
        if (queue.isEmpty() || queue.get().isBlank()) {
            log.error("queue_directory is not set; the control socket is not available");
            return null;
        }
        Path socket = Path.of(queue.get(), "private", "control");
        ControlServer server = new ControlServer(socket, new ControlCommands(this), log, 10_000);
        try {
            server.start();
            return server;
        } catch (IOException e) {
            log.error("{}", e.getMessage());
            server.close();
            return null;
        }
    }

    @Reference(service = Daemon.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeDaemon", updated = "updatedDaemon")
    void addDaemon(Daemon daemon, Map<String, Object> properties) {
        Object name = properties.get(Daemon.COMMAND);
        if (!(name instanceof String) || ((String) name).isBlank()) {
            log.warn("ignoring a Daemon service without the property {} (service.id {})", Daemon.COMMAND,
                    properties.get(Constants.SERVICE_ID));
            return;
        }
        supervisor.daemonAdded((String) name, daemon, number(properties.get(Constants.SERVICE_ID)),
                (int) number(properties.get(Constants.SERVICE_RANKING)));
    }

    void removeDaemon(Daemon daemon, Map<String, Object> properties) {
        supervisor.daemonRemoved(daemon);
    }

    void updatedDaemon(Daemon daemon, Map<String, Object> properties) {
        // The name or ranking may have changed: forget every registration of this object, then add it anew.
        supervisor.daemonRemoved(daemon);
        addDaemon(daemon, properties);
    }

    private static long number(Object value) {
        return value instanceof Number ? ((Number) value).longValue() : 0L;
    }

    // ---------------------------------------------------------------- ControlCommands.Master

    @Override
    public long pid() {
        return ProcessHandle.current().pid();
    }

    @Override
    public ConfigSnapshot current() {
        return config.current();
    }

    @Override
    public ConfigSnapshot reload() throws ConfigException {
        try {
            ConfigSnapshot snapshot = config.reload();
            log.info("reload -- version {}, configuration {}", context.getBundle().getVersion(),
                    snapshot.configDirectory());
            return snapshot;
        } catch (ConfigException e) {
            log.error("{}; keeping the previous configuration", e.getMessage());
            throw e;
        }
    }

    @Override
    public void settle() {
        supervisor.settle();
    }

    @Override
    public List<Supervisor.EntryStatus> entries() {
        return supervisor.status();
    }

    @Override
    public Optional<TableService> tables() {
        return Optional.ofNullable(tables);
    }

    @Override
    public List<Plugins.BundleInfo> bundles() {
        return Plugins.read(context);
    }

    @Override
    public Optional<org.estafeta.queue.QueueFlush> queueFlush() {
        return Optional.ofNullable(flush);
    }

    @Override
    public Optional<Path> queueDirectory() {
        QueueStore q = queue;
        return q == null ? Optional.empty() : Optional.of(q.directory());
    }

    @Override
    public void stopFramework() {
        Thread t = new Thread(() -> {
            try {
                log.info("stop requested on the control socket");
                context.getBundle(Constants.SYSTEM_BUNDLE_ID).stop();
            } catch (BundleException | IllegalStateException e) {
                log.error("cannot stop the framework: {}", e.toString());
            }
        }, "estafeta-stop");
        t.setDaemon(false);
        t.start();
    }
}
