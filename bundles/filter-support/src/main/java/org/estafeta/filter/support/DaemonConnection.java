package org.estafeta.filter.support;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One blocking connection to a daemon with a deadline for the whole exchange: when the deadline passes, the timer
 * closes the channel, which ends any connect, read or write under way with an {@link IOException} that says
 * {@code timeout}. Unix sockets and TCP alike (a {@link SocketChannel} of either family).
 *
 * <p>One thread at a time. The caller owns the timer (one single-thread scheduler per filter is enough: it only
 * closes channels) and shuts it down.
 */
public final class DaemonConnection implements Closeable {
    private final DaemonAddress address;
    private final SocketChannel channel;
    private final Duration timeout;
    private final ScheduledFuture<?> deadline;
    private volatile boolean expired;

    private DaemonConnection(DaemonAddress address, SocketChannel channel, Duration timeout,
            ScheduledExecutorService timer) {
        this.address = address;
        this.channel = channel;
        this.timeout = timeout;
        this.deadline = timer.schedule(() -> {
            expired = true;
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing is all we can do
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Connects to {@code address}; the deadline covers the connect and everything until {@link #close()}. */
    public static DaemonConnection open(DaemonAddress address, Duration timeout, ScheduledExecutorService timer)
            throws IOException {
        SocketChannel ch = address.socket() instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        DaemonConnection c = new DaemonConnection(address, ch, timeout, timer);
        try {
            ch.connect(address.resolved());
        } catch (IOException | RuntimeException e) {
            c.close();
            throw c.failure("connect to " + address, e);
        }
        return c;
    }

    public InputStream input() {
        return Channels.newInputStream(channel);
    }

    public OutputStream output() {
        return Channels.newOutputStream(channel);
    }

    /** Half-closes: the daemon reads end-of-file after what was sent. */
    public void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    /** The exception to throw for {@code e} while doing {@code what}: a timeout says so. */
    public IOException failure(String what, Exception e) {
        if (expired || e instanceof AsynchronousCloseException) {
            return new IOException(what + ": timeout after " + timeout.toSeconds() + "s", e);
        }
        String m = e.getMessage() != null ? e.getMessage() : e.toString();
        return new IOException(what + ": " + m, e);
    }

    public DaemonAddress address() {
        return address;
    }

    @Override
    public void close() {
        deadline.cancel(false);
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to save
        }
    }
}
