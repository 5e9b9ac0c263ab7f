package org.estafeta.smtpd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * master.cf's maxproc column for an smtpd entry: at most that many sessions at once (0: no limit).
 *
 * <p>Postfix's master does not refuse the client that comes one too many: it stops accepting on the listening
 * sockets until a process is free, so the new client waits in the kernel's listen queue, and it logs a warning
 * (at most once every 1000 seconds). This does the same: at the limit, the listening channels stop reading
 * (auto-read off), so further connections stay in the backlog; the few that Netty had already accepted in the same
 * read wait here, without a greeting, and get the next free slot. All counting is under this object's lock, since
 * one entry may listen on several addresses served by different event loops.
 *
 * <p>Installed in each listening channel's pipeline before the acceptor, it sees every accepted child channel.
 */
@ChannelHandler.Sharable
final class ProcessLimit extends ChannelInboundHandlerAdapter {
    /** Postfix's master says it as master; so does this. */
    private static final Logger MASTER_LOG = LoggerFactory.getLogger("master");
    private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1000);

    private record Waiting(ChannelHandlerContext ctx, Channel child) {
    }

    private final int limit;
    private final String serviceName;
    private final String canonicalName;
    private final List<Channel> listeners = new ArrayList<>();
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private int active;
    private boolean paused;
    private boolean stopped;
    private long lastWarning;
    private boolean warnedOnce;

    /**
     * @param limit the maxproc value, 0 for none
     * @param serviceName the service column as written ({@code smtp})
     * @param canonicalName Postfix's internal name for it ({@code 25} or {@code [127.0.0.1]:2525})
     */
    ProcessLimit(int limit, String serviceName, String canonicalName) {
        this.limit = limit;
        this.serviceName = serviceName;
        this.canonicalName = canonicalName;
    }

    synchronized void addListener(Channel listener) {
        listeners.add(listener);
        if (paused) {
            listener.config().setAutoRead(false);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Channel child)) {
            ctx.fireChannelRead(msg);
            return;
        }
        boolean admitted;
        boolean closeNow = false;
        boolean warn = false;
        synchronized (this) {
            if (stopped) {
                closeNow = true;
                admitted = false;
            } else if (limit == 0 || active < limit) {
                active++;
                admitted = true;
            } else {
                admitted = false;
                waiting.add(new Waiting(ctx, child));
                if (!paused) {
                    paused = true;
                    listeners.forEach(l -> l.config().setAutoRead(false));
                    long now = System.nanoTime();
                    if (!warnedOnce || now - lastWarning > WARN_INTERVAL_NANOS) {
                        warnedOnce = true;
                        lastWarning = now;
                        warn = true;
                    }
                }
            }
        }
        if (closeNow) {
            child.unsafe().closeForcibly();
            return;
        }
        if (warn) {
            MASTER_LOG.warn("service \"" + serviceName + "\" (" + canonicalName + ") has reached its process limit \""
                    + limit + "\": new clients may experience noticeable delays");
            MASTER_LOG.warn("to avoid this condition, increase the process count in master.cf"
                    + " or reduce the service time per client");
        }
        if (admitted) {
            start(ctx, child);
        }
    }

    private void start(ChannelHandlerContext ctx, Channel child) {
        child.closeFuture().addListener(f -> release());
        ctx.fireChannelRead(child);
    }

    private void release() {
        Waiting next;
        synchronized (this) {
            active--;
            next = stopped ? null : waiting.poll();
            if (next != null) {
                active++;
            } else if (paused && !stopped) {
                paused = false;
                listeners.forEach(l -> l.config().setAutoRead(true));
            }
            notifyAll();
        }
        if (next != null) {
            Waiting w = next;
            w.ctx().executor().execute(() -> start(w.ctx(), w.child()));
        }
    }

    /** Number of sessions running now. */
    synchronized int active() {
        return active;
    }

    /** Connections accepted but not yet started because of the limit. */
    synchronized int waiting() {
        return waiting.size();
    }

    /** No more sessions: the connections still waiting for a slot are closed (they never got a greeting). */
    void stop() {
        List<Waiting> dropped;
        synchronized (this) {
            stopped = true;
            dropped = new ArrayList<>(waiting);
            waiting.clear();
        }
        for (Waiting w : dropped) {
            w.child().unsafe().closeForcibly();
        }
    }

    /** Waits until no session runs, at most {@code timeoutMillis}; true if none is left. */
    synchronized boolean awaitIdle(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (active > 0) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }
}
