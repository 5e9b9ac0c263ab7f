package org.estafeta.spawn.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.estafeta.master.daemon.DaemonInstance;
import org.slf4j.Logger;

/**
 * The running spawn service of one master.cf entry: its listening sockets, one accept thread per socket, and one
 * {@link CommandSession} (three threads) per connection. At most {@link SpawnSettings#processLimit()} sessions run
 * at once: like Postfix's master, a further client is not refused but stays in the kernel's listen queue until a
 * session ends, and the {@code master} logger warns (at most once every 1000 s) that the limit was reached.
 */
final class SpawnInstance implements DaemonInstance {
    static final long STOP_WAIT_MILLIS = 5_000;
    private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1000);

    private final String service;
    private final String canonicalName;
    private final SpawnSettings settings;
    private final Logger log;
    private final Logger masterLog;
    private final Semaphore slots;
    private final List<ServerSocketChannel> listeners = new ArrayList<>();
    private final Set<CommandSession> sessions = ConcurrentHashMap.newKeySet();
    private final List<String> bound = new ArrayList<>();
    private Path unixSocket;
    private volatile boolean stopped;
    private long lastWarning;
    private boolean warnedOnce;

    /**
     * @param service the service column as written ({@code localhost:10025})
     * @param canonicalName Postfix master's name for it ({@code [127.0.0.1]:10025}, {@code private/scan})
     */
    SpawnInstance(String service, String canonicalName, SpawnSettings settings, Logger log, Logger masterLog) {
        this.service = service;
        this.canonicalName = canonicalName;
        this.settings = settings;
        this.log = log;
        this.masterLog = masterLog;
        this.slots = settings.processLimit() > 0 ? new Semaphore(settings.processLimit(), true) : null;
    }

    /** Binds every address and starts accepting; on failure nothing stays bound. */
    synchronized void bindInet(List<InetSocketAddress> addresses) throws IOException {
        try {
            for (InetSocketAddress a : addresses) {
                ServerSocketChannel ch = ServerSocketChannel.open();
                listeners.add(ch);
                ch.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
                bind(ch, a);
                bound.add(a.getAddress().getHostAddress() + ":" + a.getPort());
            }
        } catch (IOException | RuntimeException e) {
            closeListeners();
            throw e;
        }
        startAccepting();
    }

    /** Binds the socket file (mode 0666; its directory is created 0700 for private/, 0711 for public/). */
    synchronized void bindUnix(Path socket) throws IOException {
        Path dir = socket.getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(
                    dir.getFileName().toString().equals("public") ? "rwx--x--x" : "rwx------"));
        }
        Files.deleteIfExists(socket);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listeners.add(ch);
        try {
            bind(ch, UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        } catch (IOException | RuntimeException e) {
            closeListeners();
            throw e;
        }
        unixSocket = socket;
        bound.add(socket.toString());
        startAccepting();
    }

    private void bind(ServerSocketChannel ch, SocketAddress address) throws IOException {
        try {
            ch.bind(address, 100);
        } catch (IOException e) {
            throw new IOException("bind " + address + ": " + e.getMessage(), e);
        }
    }

    private void startAccepting() {
        for (ServerSocketChannel ch : listeners) {
            Thread t = new Thread(() -> acceptLoop(ch), "estafeta-spawn-accept-" + service);
            t.setDaemon(true);
            t.start();
        }
    }

    private void acceptLoop(ServerSocketChannel listener) {
        while (!stopped) {
            try {
                acquireSlot();
            } catch (InterruptedException e) {
                return;
            }
            SocketChannel client;
            try {
                client = listener.accept();
            } catch (ClosedChannelException e) {
                releaseSlot();
                return;
            } catch (IOException e) {
                releaseSlot();
                if (!stopped) {
                    log.warn("{}: accept: {}", canonicalName, e.getMessage());
                    pause();
                }
                continue;
            }
            CommandSession session = new CommandSession(settings, client, log);
            sessions.add(session);
            Thread t = new Thread(() -> {
                try {
                    session.run();
                } finally {
                    sessions.remove(session);
                    releaseSlot();
                }
            }, "estafeta-spawn-" + service);
            t.setDaemon(true);
            t.start();
        }
    }

    /** Waits for a free process slot before accepting, so a client one too many waits in the listen queue. */
    private void acquireSlot() throws InterruptedException {
        if (slots == null || slots.tryAcquire()) {
            return;
        }
        boolean warn;
        synchronized (this) {
            long now = System.nanoTime();
            warn = !warnedOnce || now - lastWarning > WARN_INTERVAL_NANOS;
            if (warn) {
                warnedOnce = true;
                lastWarning = now;
            }
        }
        if (warn) {
            masterLog.warn("service \"{}\" ({}) has reached its process limit \"{}\": new clients may experience"
                    + " noticeable delays", service, canonicalName, settings.processLimit());
            masterLog.warn("to avoid this condition, increase the process count in master.cf"
                    + " or reduce the service time per client");
        }
        while (!stopped) {
            if (slots.tryAcquire(1, TimeUnit.SECONDS)) {
                return;
            }
        }
        throw new InterruptedException("stopped");
    }

    private void releaseSlot() {
        if (slots != null) {
            slots.release();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100); // as Postfix's master backs off after an accept error (EMFILE …)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Number of commands running now. */
    int active() {
        return sessions.size();
    }

    /**
     * Closes the listeners, gives running commands {@value #STOP_WAIT_MILLIS} ms to end on their own, then kills
     * those still running (Postfix's master likewise ends its spawn processes).
     */
    @Override
    public void stop() {
        stopped = true;
        closeListeners();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_WAIT_MILLIS);
        while (!sessions.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List.copyOf(sessions).forEach(CommandSession::abort);
    }

    private synchronized void closeListeners() {
        for (ServerSocketChannel ch : listeners) {
            try {
                ch.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
        listeners.clear();
        if (unixSocket != null) {
            try {
                Files.deleteIfExists(unixSocket);
            } catch (IOException e) {
                log.warn("cannot remove {}: {}", unixSocket, e.getMessage());
            }
            unixSocket = null;
        }
    }

    @Override
    public synchronized String describe() {
        return "spawn " + settings.argv0() + " listening on " + String.join(", ", bound) + " ("
                + active() + " running, limit " + (slots == null ? "none" : settings.processLimit()) + ")";
    }
}
