package org.estafeta.dns.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import org.estafeta.dns.DnsResult;
import org.xbill.DNS.Cache;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;
import org.xbill.DNS.lookup.LookupFailedException;
import org.xbill.DNS.lookup.LookupResult;
import org.xbill.DNS.lookup.LookupSession;
import org.xbill.DNS.lookup.NoSuchDomainException;
import org.xbill.DNS.lookup.NoSuchRRSetException;
import org.xbill.DNS.lookup.ServerFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One configuration of the resolver: the servers, the timeout and a dnsjava {@link LookupSession} with its own
 * cache. Immutable; a new configuration builds a new engine (and so starts with an empty cache), while lookups
 * already under way finish on the engine they started with.
 */
final class DnsEngine {
    static final String LOGGER = "dns";
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    /** Tries per server before the next one is asked (within the overall timeout). */
    private static final int TRIES_PER_SERVER = 2;
    private static final Duration MIN_TRY_TIMEOUT = Duration.ofMillis(500);
    /** Cache entries per engine: one per name and type. */
    private static final int CACHE_ENTRIES = 50_000;

    private final LookupSession session;
    private final Cache cache;
    private final Duration timeout;
    private final Executor executor;
    private final String description;
    /** No server to ask: every lookup is a temporary failure. */
    private final boolean noServers;

    DnsEngine(Resolver resolver, Duration timeout, Executor executor, String description) {
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.description = description;
        this.noServers = resolver instanceof ExtendedResolver x && x.getResolvers().length == 0;
        this.cache = new Cache(DClass.IN);
        cache.setMaxEntries(CACHE_ENTRIES);
        this.session = LookupSession.builder()
                .resolver(resolver)
                .cache(cache)
                .executor(executor)
                .build();
    }

    /** An engine that asks {@code servers} in turn; the whole of a lookup takes at most {@code timeout}. */
    static DnsEngine forServers(List<InetSocketAddress> servers, Duration timeout, Executor executor) {
        List<Resolver> resolvers = new ArrayList<>();
        long tries = Math.max(1, (long) servers.size() * TRIES_PER_SERVER);
        Duration perTry = timeout.dividedBy(tries);
        if (perTry.compareTo(MIN_TRY_TIMEOUT) < 0) {
            perTry = MIN_TRY_TIMEOUT.compareTo(timeout) < 0 ? MIN_TRY_TIMEOUT : timeout;
        }
        for (InetSocketAddress server : servers) {
            SimpleResolver r = new SimpleResolver(server);
            r.setTimeout(perTry);
            resolvers.add(r);
        }
        ExtendedResolver extended = new ExtendedResolver(resolvers);
        extended.setRetries(TRIES_PER_SERVER);
        extended.setTimeout(timeout);
        String description = servers.isEmpty() ? "none"
                : servers.stream().map(DnsEngine::describe).collect(Collectors.joining(", "))
                + ", timeout " + timeout.toSeconds() + "s";
        return new DnsEngine(extended, timeout, executor, description);
    }

    static String describe(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    Duration timeout() {
        return timeout;
    }

    Executor executor() {
        return executor;
    }

    /** Servers and timeout, for log lines. */
    String description() {
        return description;
    }

    Cache cache() {
        return cache;
    }

    /**
     * Asks for the records of {@code type} at {@code name} (absolute). Completes, on the engine's executor and
     * within the timeout, with found (only records of {@code type}; CNAMEs followed), not found or a temporary
     * failure; never exceptionally.
     */
    CompletableFuture<DnsResult<Record>> lookup(Name name, int type) {
        String query = name.toString(true) + "/" + Type.string(type);
        CompletableFuture<LookupResult> answer;
        if (noServers) {
            return CompletableFuture.supplyAsync(() -> temporary(query, "no usable nameserver", false), executor);
        }
        try {
            answer = session.lookupAsync(name, type).toCompletableFuture();
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        // orTimeout on a copy: the session's own future is left alone.
        return answer.thenApply(r -> r)
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .handleAsync((result, failure) -> classify(query, type, result, failure), executor);
    }

    private DnsResult<Record> classify(String query, int type, LookupResult result, Throwable failure) {
        if (failure == null) {
            if (result == null) {
                return temporary(query, "no answer", false);
            }
            List<Record> records = result.getRecords().stream().filter(r -> r.getType() == type).toList();
            if (records.isEmpty()) {
                return new DnsResult.NotFound<>(query, DnsResult.NotFoundReason.NO_DATA);
            }
            long ttl = records.stream().mapToLong(Record::getTTL).min().orElse(0);
            return new DnsResult.Found<>(query, records, Duration.ofSeconds(ttl));
        }
        Throwable e = unwrap(failure);
        if (e instanceof NoSuchDomainException) {
            return new DnsResult.NotFound<>(query, DnsResult.NotFoundReason.NXDOMAIN);
        }
        if (e instanceof NoSuchRRSetException) {
            return new DnsResult.NotFound<>(query, DnsResult.NotFoundReason.NO_DATA);
        }
        if (e instanceof TimeoutException || e instanceof SocketTimeoutException
                || (e instanceof IOException && String.valueOf(e.getMessage()).startsWith("Timed out"))) {
            return temporary(query, "timeout after " + timeout.toSeconds() + "s", true);
        }
        if (e instanceof ServerFailedException sf) {
            ExtendedErrorCodeOption ede = sf.getExtendedRcode();
            String extended = ede == null ? ""
                    : " (extended error " + ede.getErrorCode()
                            + (ede.getText() == null || ede.getText().isEmpty() ? "" : ": " + ede.getText()) + ")";
            return temporary(query, "SERVFAIL" + extended, false);
        }
        if (e instanceof LookupFailedException) {
            // other rcodes (REFUSED, NOTIMP, FORMERR), CNAME loops, answers that do not normalize
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return temporary(query, m.replace("Unknown non-success error code ", ""), false);
        }
        if (e instanceof PortUnreachableException) {
            return temporary(query, "network: port unreachable", false);
        }
        if (e instanceof IOException) {
            return temporary(query, "network: " + (e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getMessage()), false);
        }
        log.error("unexpected error resolving {}: {}", query, e.toString(), e);
        return temporary(query, "internal error: " + e, false);
    }

    private static <T> DnsResult<T> temporary(String query, String reason, boolean timedOut) {
        if (timedOut) {
            log.warn("timeout resolving {}", query);
        } else {
            log.warn("temporary failure resolving {}: {}", query, reason);
        }
        return new DnsResult.TemporaryFailure<>(query, reason);
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
