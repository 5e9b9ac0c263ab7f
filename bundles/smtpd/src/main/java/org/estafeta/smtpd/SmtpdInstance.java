package org.estafeta.smtpd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.master.daemon.DaemonInstance;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.EventExecutor;

/**
 * One running smtpd for one master.cf {@code inet} entry: a listening channel per address, a {@link SmtpSession}
 * per connection, at most maxproc sessions at once.
 */
final class SmtpdInstance implements DaemonInstance {
    /** At most this long, stop() waits for the operating system to release a listening port. */
    private static final long RELEASE_WAIT_MILLIS = 1_000;

    private final MasterEntry entry;
    private final SmtpdSettings settings;
    private final SmtpdLog log;
    private final EventLoopGroup group;
    private final long stopWaitMillis;
    private final ProcessLimit processLimit;
    private final List<Channel> listeners = new ArrayList<>();
    private final List<InetSocketAddress> bound = new ArrayList<>();
    private final Runnable onStop;
    private final ConfigSnapshot config;
    private final SmtpdServices services;
    private final ClientLimits limits;
    private final SmtpdTls starttls;
    private final SmtpdSasl sasl;
    private final ClientLimits authLimits;
    private boolean stopped;

    SmtpdInstance(MasterEntry entry, SmtpdSettings settings, SmtpdLog log, EventLoopGroup group, long stopWaitMillis,
            String canonicalName, Runnable onStop) {
        this(entry, settings, log, group, stopWaitMillis, canonicalName, onStop, null, SmtpdServices.NONE);
    }

    SmtpdInstance(MasterEntry entry, SmtpdSettings settings, SmtpdLog log, EventLoopGroup group, long stopWaitMillis,
            String canonicalName, Runnable onStop, ConfigSnapshot config, SmtpdServices services) {
        this(entry, settings, log, group, stopWaitMillis, canonicalName, onStop, config, services, SmtpdTls.OFF);
    }

    SmtpdInstance(MasterEntry entry, SmtpdSettings settings, SmtpdLog log, EventLoopGroup group, long stopWaitMillis,
            String canonicalName, Runnable onStop, ConfigSnapshot config, SmtpdServices services, SmtpdTls starttls) {
        this(entry, settings, log, group, stopWaitMillis, canonicalName, onStop, config, services, starttls, SmtpdSasl.OFF);
    }

    SmtpdInstance(MasterEntry entry, SmtpdSettings settings, SmtpdLog log, EventLoopGroup group, long stopWaitMillis,
            String canonicalName, Runnable onStop, ConfigSnapshot config, SmtpdServices services, SmtpdTls starttls,
            SmtpdSasl sasl) {
        this.sasl = sasl;
        this.authLimits = new ClientLimits(settings.rateTimeUnitSeconds());
        this.starttls = starttls;
        this.config = config;
        this.services = services;
        this.limits = new ClientLimits(settings.rateTimeUnitSeconds());
        this.entry = entry;
        this.settings = settings;
        this.log = log;
        this.group = group;
        this.stopWaitMillis = stopWaitMillis;
        this.onStop = onStop;
        this.processLimit = new ProcessLimit(settings.processLimit(), entry.service(), canonicalName);
    }

    /**
     * Binds every address; returns once all are bound. If one fails, the others are closed again and the exception
     * names the entry, the address and the cause ({@code smtp/inet 127.0.0.1:2525: bind: Address already in use}).
     */
    void bind(List<InetSocketAddress> addresses) throws Exception {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .handler(processLimit)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(8 * 1024, 32 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("timeout", new IdleStateHandler(settings.timeoutSeconds(), 0, 0, TimeUnit.SECONDS));
                        ch.pipeline().addLast("lines", new SmtpLineDecoder(settings.lineLengthLimit()));
                        ch.pipeline().addLast("session", new SmtpSession(settings, log, config, services, limits, starttls, sasl, authLimits));
                    }
                });
        for (InetSocketAddress address : addresses) {
            ChannelFuture future = bootstrap.bind(address).awaitUninterruptibly();
            if (!future.isSuccess()) {
                closeListeners();
                Throwable cause = future.cause();
                String message = cause.getMessage() != null ? cause.getMessage() : cause.toString();
                throw new IOException(entry.id() + " " + Addresses.endpoint(address) + ": bind: " + message, cause);
            }
            listeners.add(future.channel());
            bound.add((InetSocketAddress) future.channel().localAddress());
            processLimit.addListener(future.channel());
        }
    }

    @Override
    public void stop() {
        if (stopListening()) {
            awaitSessions(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(stopWaitMillis));
        }
    }

    /**
     * First half of {@link #stop()}: closes the listeners and drops connections still waiting for a slot. Sessions
     * keep their snapshot and go on. False if the instance was stopped already.
     */
    boolean stopListening() {
        synchronized (this) {
            if (stopped) {
                return false;
            }
            stopped = true;
        }
        try {
            closeListeners();
            processLimit.stop();
        } finally {
            onStop.run();
        }
        return true;
    }

    /** Second half of {@link #stop()}: waits for open sessions to end, until {@code deadlineNanos} at most. */
    void awaitSessions(long deadlineNanos) {
        if (onEventLoop()) {
            return;
        }
        try {
            processLimit.awaitIdle(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waiting on an event loop of the group would hold up the very sessions being waited for. */
    private boolean onEventLoop() {
        for (EventExecutor executor : group) {
            if (executor.inEventLoop()) {
                return true;
            }
        }
        return false;
    }

    private void closeListeners() {
        for (Channel listener : listeners) {
            listener.close().awaitUninterruptibly();
        }
        // Java NIO closes a listening socket registered with a selector only when the selector next runs, a moment
        // after Netty's close completes. Until then the port still accepts, and a new instance (reload) cannot bind
        // it. So wait, briefly, until the port can be bound again.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RELEASE_WAIT_MILLIS);
        for (InetSocketAddress address : bound) {
            while (!canBind(address) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static boolean canBind(InetSocketAddress address) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(address, 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public String describe() {
        String where = bound.stream()
                .map(Addresses::endpoint)
                .collect(Collectors.joining(", "));
        boolean isStopped;
        synchronized (this) {
            isStopped = stopped;
        }
        return isStopped ? "smtpd stopped (was listening on " + where + ")" : "smtpd listening on " + where;
    }

    /** Sessions running now (for tests and status). */
    int activeSessions() {
        return processLimit.active();
    }

    int waitingConnections() {
        return processLimit.waiting();
    }

    List<InetSocketAddress> boundAddresses() {
        return List.copyOf(bound);
    }
}
