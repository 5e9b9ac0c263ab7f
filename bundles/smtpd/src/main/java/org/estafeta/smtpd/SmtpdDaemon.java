package org.estafeta.smtpd;

import org.estafeta.master.daemon.ListenAddresses;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.master.daemon.Daemon;
import org.estafeta.master.daemon.DaemonInstance;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.dns.DnsResolver;
import org.estafeta.restrictions.RestrictionEngine;
import org.estafeta.tls.TlsService;
import org.estafeta.api.sasl.SaslServer;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * master.cf's {@code smtpd} command: one Netty listener per {@code inet} entry that names it. All instances share
 * one NIO event loop group (as many threads as Netty's default, twice the cores), which lives as long as this
 * component.
 */
@Component(service = Daemon.class, property = Daemon.COMMAND + "=smtpd")
public final class SmtpdDaemon implements Daemon, SmtpdServices {
    /** Threads of the pool that runs Cleanup's blocking calls (each session uses at most one at a time). */
    static final int WORKER_THREADS = 16;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Cleanup cleanup;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile DnsResolver dns;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile RestrictionEngine restrictions;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile TlsService tls;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile org.estafeta.queue.QueueFlush queueFlush;

    /** SASL back ends by type ({@code estafeta.sasl.type}, a String or String[]), best ranking first. */
    private final Map<String, List<SaslEntry>> saslServers = new ConcurrentHashMap<>();

    private record SaslEntry(SaslServer server, long id, int ranking) {
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addSaslServer(SaslServer server, Map<String, Object> props) {
        SaslEntry entry = new SaslEntry(server, (Long) props.getOrDefault("service.id", 0L),
                props.get("service.ranking") instanceof Integer r ? r : 0);
        for (String type : saslTypes(props)) {
            saslServers.compute(type, (t, list) -> {
                List<SaslEntry> l = new ArrayList<>(list == null ? List.of() : list);
                l.add(entry);
                l.sort(Comparator.comparingInt(SaslEntry::ranking).reversed().thenComparingLong(SaslEntry::id));
                return List.copyOf(l);
            });
        }
    }

    void removeSaslServer(SaslServer server, Map<String, Object> props) {
        for (String type : saslTypes(props)) {
            saslServers.computeIfPresent(type, (t, list) -> {
                List<SaslEntry> l = list.stream().filter(e -> e.server() != server).toList();
                return l.isEmpty() ? null : l;
            });
        }
    }

    private static List<String> saslTypes(Map<String, Object> props) {
        Object v = props.get(SaslServer.TYPE);
        if (v instanceof String one) {
            return List.of(one.toLowerCase(Locale.ROOT));
        }
        if (v instanceof String[] many) {
            return Arrays.stream(many).map(t -> t.toLowerCase(Locale.ROOT)).toList();
        }
        return List.of();
    }

    @Override
    public SaslServer sasl(String type) {
        List<SaslEntry> l = saslServers.get(type);
        return l == null || l.isEmpty() ? null : l.get(0).server();
    }

    @Override
    public org.estafeta.queue.QueueFlush queueFlush() {
        return queueFlush;
    }

    private volatile ExecutorService workers;

    /** How long {@link DaemonInstance#stop()} waits for open sessions to end. */
    static final long STOP_WAIT_MILLIS = 5_000;

    private final SmtpdLog log;
    private final long stopWaitMillis;
    private final Set<SmtpdInstance> instances = ConcurrentHashMap.newKeySet();
    private volatile EventLoopGroup group;

    public SmtpdDaemon() {
        this(SmtpdLog.slf4j(), STOP_WAIT_MILLIS);
    }

    SmtpdDaemon(SmtpdLog log, long stopWaitMillis) {
        this.log = log;
        this.stopWaitMillis = stopWaitMillis;
    }

    @Override
    public Cleanup cleanup() {
        return cleanup;
    }

    @Override
    public DnsResolver dns() {
        return dns;
    }

    @Override
    public RestrictionEngine restrictions() {
        return restrictions;
    }

    @Override
    public Executor workers() {
        return workers;
    }

    @Activate
    void activate() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(WORKER_THREADS, WORKER_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), new DefaultThreadFactory("smtpd-worker", true));
        pool.allowCoreThreadTimeOut(true);
        workers = pool;
        group = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("smtpd", true), NioIoHandler.newFactory());
    }

    @Deactivate
    void deactivate() {
        // Close every listener first, then give all open sessions one common short wait.
        List<SmtpdInstance> stopping = List.copyOf(instances);
        stopping.forEach(SmtpdInstance::stopListening);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(stopWaitMillis);
        stopping.forEach(instance -> instance.awaitSessions(deadline));
        EventLoopGroup g = group;
        group = null;
        if (g != null) {
            // Sessions still open end here, as Postfix's smtpd processes end when master stops.
            g.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        ExecutorService w = workers;
        if (w != null) {
            w.shutdown();
        }
    }

    @Override
    public DaemonInstance start(MasterEntry entry, ConfigSnapshot config) throws Exception {
        EventLoopGroup g = group;
        if (g == null) {
            throw new IllegalStateException(entry.id() + ": smtpd is not active");
        }
        if (!"inet".equals(entry.type())) {
            throw new IllegalArgumentException(entry.id() + ": smtpd supports only inet entries (this one is "
                    + entry.type() + ")");
        }
        SmtpdSettings settings;
        List<InetSocketAddress> addresses;
        SmtpdTls starttls;
        SmtpdSasl sasl;
        try {
            settings = SmtpdSettings.from(entry, config);
            starttls = SmtpdTls.from(config, () -> tls, workers, log);
            sasl = SmtpdSasl.from(config, this::sasl);
            addresses = ListenAddresses.resolve(entry.service(), ListenAddresses.inetInterfaces(config));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(entry.id() + ": " + e.getMessage(), e);
        }
        // Postfix's smtpd refuses to start on a configuration that would relay for everyone (and on other
        // broken restriction settings); so does this one, with Postfix's message, rather than run an open relay.
        RestrictionEngine engine = restrictions;
        if (engine != null) {
            List<String> errors = engine.configurationErrors(config);
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException(entry.id() + ": fatal: " + String.join("; fatal: ", errors));
            }
        }
        String canonical = canonicalName(entry.service(), addresses);
        SmtpdInstance[] self = new SmtpdInstance[1];
        SmtpdInstance instance = new SmtpdInstance(entry, settings, log, g, stopWaitMillis, canonical,
                () -> instances.remove(self[0]), config, this, starttls, sasl);
        self[0] = instance;
        instance.bind(addresses);
        instances.add(instance);
        starttls.prepare();
        return instance;
    }

    /** Postfix master's internal name of an inet service: the port number, or {@code [address]:port}. */
    private static String canonicalName(String service, List<InetSocketAddress> addresses) {
        int port = addresses.get(0).getPort();
        boolean hostGiven = service.startsWith("[") || service.indexOf(':') >= 0;
        return hostGiven ? "[" + Addresses.text(addresses.get(0).getAddress()) + "]:" + port : String.valueOf(port);
    }
}
