package org.estafeta.smtpd;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.tls.ServerTls;
import org.estafeta.tls.TlsException;
import org.estafeta.tls.TlsPolicy;
import org.estafeta.tls.TlsService;

/**
 * One smtpd instance's STARTTLS setup: the security level, the log level, and the server context, made once (off
 * the event loop) from the {@link TlsService}. A context that failed is remembered, as Postfix's smtpd keeps its
 * failed TLS initialization for the life of the process: STARTTLS then answers {@code 454 4.7.0}. Without a
 * TlsService (bundle tls absent) nothing is remembered, so the context is made once the service appears.
 */
final class SmtpdTls {
    static final SmtpdTls OFF = new SmtpdTls(TlsPolicy.NONE, 0, () -> null, null, Runnable::run, null);

    private final TlsPolicy level;
    private final int loglevel;
    private final Supplier<TlsService> service;
    private final ConfigSnapshot config;
    private final Executor workers;
    private final SmtpdLog log;
    private CompletableFuture<ServerTls> context;

    SmtpdTls(TlsPolicy level, int loglevel, Supplier<TlsService> service, ConfigSnapshot config, Executor workers,
            SmtpdLog log) {
        this.level = level;
        this.loglevel = loglevel;
        this.service = service;
        this.config = config;
        this.workers = workers;
        this.log = log;
    }

    /** The level and log level of {@code config}; IllegalArgumentException for a bad level (smtpd does not start). */
    static SmtpdTls from(ConfigSnapshot config, Supplier<TlsService> service, Executor workers, SmtpdLog log) {
        TlsPolicy level = TlsPolicy.of(config);
        long loglevel = config.get("smtpd_tls_loglevel").isPresent() ? config.integer("smtpd_tls_loglevel") : 0;
        return new SmtpdTls(level, (int) loglevel, service, config, workers, log);
    }

    TlsPolicy level() {
        return level;
    }

    int loglevel() {
        return loglevel;
    }

    /** Whether STARTTLS is announced: the level offers it and a TLS service is there to make the context. */
    boolean offered() {
        return level.offered() && service.get() != null;
    }

    /**
     * The context, made on the worker pool the first time; completes exceptionally with a {@link TlsException}
     * (the reason is logged once, as a warning).
     */
    synchronized CompletableFuture<ServerTls> context() {
        if (context != null) {
            return context;
        }
        TlsService tls = service.get();
        if (tls == null) {
            return CompletableFuture.failedFuture(new TlsException("no TLS service (bundle estafeta-tls) is installed"));
        }
        context = CompletableFuture.supplyAsync(() -> {
            try {
                return tls.server(config);
            } catch (TlsException e) {
                log.warn(e.getMessage() + "; TLS is not available (STARTTLS gets 454 4.7.0)");
                throw new java.util.concurrent.CompletionException(e);
            }
        }, workers);
        return context;
    }

    /** Starts making the context now, so the first STARTTLS does not wait for it. */
    void prepare() {
        if (offered()) {
            context();
        }
    }
}
