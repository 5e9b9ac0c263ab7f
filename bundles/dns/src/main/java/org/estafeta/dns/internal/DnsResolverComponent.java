package org.estafeta.dns.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.dns.ClientName;
import org.estafeta.dns.DnsResolver;
import org.estafeta.dns.DnsResult;
import org.estafeta.dns.DnsblResult;
import org.estafeta.dns.MxRecord;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ResolverConfig;

/**
 * dns - the {@link DnsResolver} service: dnsjava's LookupSession with a TTL cache, configured from
 * {@code estafeta_dns_servers} and {@code estafeta_dns_timeout} and rebuilt when a reload changes them.
 */
@Component(service = DnsResolver.class, immediate = true)
public final class DnsResolverComponent implements DnsResolver {
    private static final Logger log = LoggerFactory.getLogger(DnsEngine.LOGGER);

    private volatile ConfigSource config;
    private volatile DnsEngine engine;
    private DnsSettings settings;
    private final Object lock = new Object();
    private final Consumer<ConfigSnapshot> listener = this::configure;
    private final ThreadPoolExecutor executor;
    private final DnsjavaResolver resolver = new DnsjavaResolver(() -> engine);

    public DnsResolverComponent() {
        AtomicInteger n = new AtomicInteger();
        executor = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "estafeta-dns-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, (task, pool) -> task.run()); // after deactivation, answers still arriving complete on the caller's thread
        executor.allowCoreThreadTimeOut(true);
    }

    @Reference
    void setConfig(ConfigSource config) {
        this.config = config;
    }

    @Activate
    void activate() {
        ConfigSource source = config;
        configure(source.current());
        source.addListener(listener);
    }

    @Deactivate
    void deactivate() {
        ConfigSource source = config;
        if (source != null) {
            source.removeListener(listener);
        }
        executor.shutdown();
        // dnsjava's selector thread would outlive the bundle (and fail on its next wake-up with the bundle's
        // class loader gone, keeping the JVM from exiting); it is created again on the next query
        org.xbill.DNS.NioClient.close();
    }

    /** Builds a new engine when the servers or the timeout change; other reloads keep the engine and its cache. */
    void configure(ConfigSnapshot snapshot) {
        DnsSettings next = DnsSettings.from(snapshot);
        synchronized (lock) {
            next.problems().forEach(p -> log.warn("{}", p));
            if (next.configured() && next.servers().isEmpty()) {
                log.error("{}: no usable nameserver; every DNS lookup fails temporarily until this is fixed",
                        DnsSettings.SERVERS);
            }
            List<InetSocketAddress> servers = next.servers();
            if (!next.configured()) {
                ResolverConfig.refresh(); // /etc/resolv.conf may have changed since the last reading
                servers = ResolverConfig.getCurrentConfig().servers();
                if (servers.isEmpty()) {
                    log.error("no nameserver in /etc/resolv.conf; every DNS lookup fails temporarily");
                }
            }
            DnsSettings effective = new DnsSettings(servers, next.timeout(), next.problems(), next.configured());
            if (settings != null && settings.servers().equals(effective.servers())
                    && settings.timeout().equals(effective.timeout())) {
                return;
            }
            DnsEngine e = DnsEngine.forServers(servers, next.timeout(), executor);
            engine = e;
            settings = effective;
            log.info("using nameservers {}{}", e.description(), next.configured() ? "" : " (from /etc/resolv.conf)");
        }
    }

    Duration timeout() {
        return engine.timeout();
    }

    @Override
    public CompletionStage<DnsResult<InetAddress>> a(String name) {
        return resolver.a(name);
    }

    @Override
    public CompletionStage<DnsResult<InetAddress>> aaaa(String name) {
        return resolver.aaaa(name);
    }

    @Override
    public CompletionStage<DnsResult<InetAddress>> addresses(String name) {
        return resolver.addresses(name);
    }

    @Override
    public CompletionStage<DnsResult<MxRecord>> mx(String domain) {
        return resolver.mx(domain);
    }

    @Override
    public CompletionStage<DnsResult<String>> ptr(InetAddress address) {
        return resolver.ptr(address);
    }

    @Override
    public CompletionStage<DnsResult<String>> txt(String name) {
        return resolver.txt(name);
    }

    @Override
    public CompletionStage<ClientName> clientName(InetAddress address) {
        return resolver.clientName(address);
    }

    @Override
    public CompletionStage<DnsblResult> rbl(InetAddress client, String zone) {
        return resolver.rbl(client, zone);
    }

    @Override
    public CompletionStage<DnsblResult> rhsbl(String domain, String zone) {
        return resolver.rhsbl(domain, zone);
    }
}
