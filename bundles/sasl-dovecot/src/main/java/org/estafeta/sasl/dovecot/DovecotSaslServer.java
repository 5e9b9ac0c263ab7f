package org.estafeta.sasl.dovecot;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.locks.ReentrantLock;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslServer;
import org.estafeta.api.sasl.SaslSession;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * {@code smtpd_sasl_type = dovecot}: every AUTH exchange is relayed to Dovecot's authentication server over its
 * auth-client protocol, on the socket {@code smtpd_sasl_path} names ({@code private/auth} under
 * {@code queue_directory}, an absolute path, or {@code inet:host:port}), as Postfix's xsasl_dovecot_server does.
 *
 * <p>One connection per socket is shared by all sessions, each exchange with its own request id; it is opened on
 * first use, kept while it works, and opened again after Dovecot closed it (a Dovecot restart). The mechanisms
 * offered are those of that connection's handshake, so an EHLO costs no round trip to Dovecot once connected.
 * A failed connect is repeated to callers for {@link #FAILURE_HOLD} without a new attempt.
 *
 * <p><b>Threading:</b> safe for concurrent use; each {@link SaslExchange} belongs to one session. <b>Blocking:</b>
 * both methods may block on Dovecot, each wait bounded by {@code estafeta_dovecot_auth_timeout} (default 30s).
 * <b>Errors:</b> Dovecot unreachable, silent, speaking another protocol, or reporting a temporary failure is an
 * {@link IOException} whose message names the socket (smtpd answers {@code 454 4.7.0}); an unusable
 * {@code smtpd_sasl_path} or timeout value is one too. Client responses and passwords are never logged.
 */
@Component(service = SaslServer.class, property = SaslServer.TYPE + "=dovecot")
public class DovecotSaslServer implements SaslServer {
    /** How long a failed connect is repeated to callers without a new attempt. */
    static final Duration FAILURE_HOLD = Duration.ofSeconds(5);

    private final Map<AuthSocket, Slot> slots = new ConcurrentHashMap<>();
    private final Map<AuthSocket, AuthConnection> connections = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private volatile boolean closed;
    /** {@link #FAILURE_HOLD}; tests shorten it. */
    Duration failureHold = FAILURE_HOLD;

    public DovecotSaslServer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = Executors.defaultThreadFactory().newThread(r);
            th.setName("dovecot-auth-timer");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
    }

    @Override
    public List<SaslMechanismInfo> mechanisms(PluginContext context) throws IOException {
        return connection(settings(context), context.logger()).mechanisms();
    }

    @Override
    public SaslExchange start(String mechanism, SaslSession session, PluginContext context) throws IOException {
        return new DovecotExchange(this, settings(context), mechanism.toUpperCase(Locale.ROOT), session,
                context.logger());
    }

    private static AuthSettings settings(PluginContext context) throws IOException {
        try {
            return AuthSettings.from(context);
        } catch (IllegalArgumentException e) {
            throw new IOException("SASL: " + e.getMessage(), e);
        }
    }

    /**
     * The open connection to {@code settings}' socket, connecting (within the timeout) when there is none. Callers
     * for the same socket wait for one connect rather than each opening their own, except after a failure: for
     * {@link #failureHold} the failure is repeated at once without a new attempt, and after that one caller tries
     * again while the others still get the last failure at once, so that an unreachable Dovecot does not hold up
     * every EHLO for the timeout.
     */
    AuthConnection connection(AuthSettings settings, System.Logger log) throws IOException {
        AuthSocket socket = settings.socket();
        AuthConnection c = connections.get(socket);
        if (c != null && c.isOpen()) {
            return c;
        }
        Slot slot = slots.computeIfAbsent(socket, s -> new Slot());
        Failure last = slot.failure;
        if (last != null && System.nanoTime() - last.nanos() < failureHold.toNanos()) {
            throw last.copy();
        }
        if (last != null) {
            if (!slot.lock.tryLock()) {
                throw last.copy(); // somebody is trying again right now
            }
        } else {
            slot.lock.lock();
        }
        try {
            if (closed) {
                throw new IOException("SASL: the Dovecot back end is stopping");
            }
            c = connections.get(socket);
            if (c != null && c.isOpen()) {
                return c;
            }
            Failure meanwhile = slot.failure;
            if (meanwhile != null && meanwhile != last) {
                throw meanwhile.copy(); // the connect we waited for failed
            }
            try {
                c = AuthConnection.open(socket, settings.timeout(), timer, log);
            } catch (IOException e) {
                slot.failure = new Failure(e, System.nanoTime());
                throw e;
            }
            slot.failure = null;
            connections.put(socket, c);
            if (closed) {
                // close() ran meanwhile and may not have seen it
                c.close();
                throw new IOException("SASL: the Dovecot back end is stopping");
            }
            return c;
        } finally {
            slot.lock.unlock();
        }
    }

    /** Per socket: one connect at a time, and the last failed one. */
    private static final class Slot {
        final ReentrantLock lock = new ReentrantLock();
        volatile Failure failure;
    }

    private record Failure(IOException error, long nanos) {
        IOException copy() {
            return new IOException(error.getMessage(), error);
        }
    }

    /** Closes every connection (the component stops); exchanges in flight fail with an {@link IOException}. */
    @Deactivate
    public void close() {
        closed = true;
        connections.values().forEach(AuthConnection::close);
        connections.clear();
        timer.shutdownNow();
    }
}
