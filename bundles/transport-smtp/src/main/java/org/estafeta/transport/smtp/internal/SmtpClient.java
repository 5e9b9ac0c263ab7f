package org.estafeta.transport.smtp.internal;

import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.dns.DnsResolver;
import org.estafeta.tables.TableService;
import org.slf4j.Logger;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The smtp/lmtp client behind both transport services: one Netty event loop group and one connection cache
 * for the component's life, and a {@link Delivery} per request on the caller's thread.
 */
public final class SmtpClient {
    private final boolean lmtp;
    private final Logger log;
    private final EventLoopGroup group;
    private final ConnectionCache cache = new ConnectionCache();
    private final TlsContexts contexts = new TlsContexts();
    private final TableService tables;
    private final java.util.concurrent.atomic.AtomicBoolean sessionCacheNoted = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile DnsResolver resolver;
    private volatile boolean closed;

    /**
     * @param lmtp whether this is the lmtp client (LHLO, one reply per recipient, lmtp_* parameters)
     * @param log the logger named {@code smtp} or {@code lmtp}
     */
    public SmtpClient(boolean lmtp, DnsResolver resolver, Logger log) {
        this(lmtp, resolver, null, log);
    }

    /**
     * @param tables opens {@code *_tls_policy_maps}; null: a policy table makes TLS policy lookups fail
     */
    public SmtpClient(boolean lmtp, DnsResolver resolver, TableService tables, Logger log) {
        this.tables = tables;
        this.lmtp = lmtp;
        this.resolver = resolver;
        this.log = log;
        String name = lmtp ? "lmtp" : "smtp";
        this.group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory(name, true), NioIoHandler.newFactory());
    }

    /** Delivers one batch; see {@link org.estafeta.api.transport.Transport#deliver}. */
    public List<RecipientResult> deliver(DeliveryRequest request, PluginContext context) {
        ClientSettings settings;
        try {
            settings = ClientSettings.from(context, lmtp);
        } catch (IllegalArgumentException e) {
            log.warn("{}", e.getMessage());
            return all(request, new Reply(451, "4.3.5", "Server configuration error"));
        }
        if (closed) {
            return all(request, new Reply(451, "4.3.0", "mail transport unavailable"));
        }
        String sessionCache = settings.tls().sessionCache();
        if (!sessionCache.isEmpty() && sessionCacheNoted.compareAndSet(false, true)) {
            log.info("{}tls_session_cache_database = {}: TLS sessions are cached in memory only, "
                    + "for {}tls_session_cache_timeout", settings.tls().prefix(), sessionCache, settings.tls().prefix());
        }
        HostFinder finder = new HostFinder(resolver, settings, log);
        return new Delivery(request, settings, group, cache, finder, log, tables, contexts).run();
    }

    private static List<RecipientResult> all(DeliveryRequest request, Reply reply) {
        List<RecipientResult> out = new ArrayList<>();
        for (String r : request.recipients()) {
            out.add(RecipientResult.deferred(r, reply, "none"));
        }
        return out;
    }

    /** Connections kept for reuse (tests). */
    int cachedConnections() {
        return cache.size();
    }

    /** Closes cached connections and stops the event loops; deliveries in flight end in a deferral. */
    public void close() {
        closed = true;
        cache.closeAll();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly(5_000);
    }
}
