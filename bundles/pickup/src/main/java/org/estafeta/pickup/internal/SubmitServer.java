package org.estafeta.pickup.internal;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import org.estafeta.pickup.Maildrop;
import org.estafeta.pickup.Passwd;
import org.estafeta.pickup.SendmailOptions;
import org.estafeta.pickup.SubmitProtocol;
import org.estafeta.queue.QueueFileFormat;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.slf4j.Logger;

/**
 * The submission socket {@code $queue_directory/public/pickup} (what Postfix's set-gid postdrop does): any local
 * user connects (socket 0666 in a directory others may traverse but not list), the kernel tells who it is
 * ({@code SO_PEERCRED}), and the message is written as a committed file in {@code maildrop/}, which only the
 * gateway user can read. The user's ID in the file comes from the kernel, never from the client; the default
 * sender is the user's login name. One thread per connection, at most {@value #MAX_CONNECTIONS} at once, each
 * closed after {@value #IDLE_SECONDS} s without data.
 */
final class SubmitServer implements Closeable {
    static final int MAX_CONNECTIONS = 64;
    static final int IDLE_SECONDS = 600;
    static final int MAX_RECIPIENTS = 10_000;

    private final Path socket;
    private final QueueStore store;
    private final long sizeLimit;
    private final Runnable committed;
    private final Logger log;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(
            r -> thread(r, "estafeta-pickup-watchdog"));
    private ServerSocketChannel server;
    private volatile boolean closed;

    /**
     * @param sizeLimit {@code message_size_limit} (0: none)
     * @param committed called after each maildrop file is committed (pickup's wake-up)
     */
    SubmitServer(Path socket, QueueStore store, long sizeLimit, Runnable committed, Logger log) {
        this.socket = socket;
        this.store = store;
        this.sizeLimit = sizeLimit;
        this.committed = committed;
        this.log = log;
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Creates {@code public/} (0711), replaces a stale socket, binds it with mode 0666 and starts accepting. */
    synchronized void start() throws IOException {
        Path dir = socket.getParent();
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Files.deleteIfExists(socket);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw new IOException("cannot bind the submission socket " + socket + ": " + e.getMessage(), e);
        }
        server = ch;
        thread(this::acceptLoop, "estafeta-pickup-submit").start();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    log.warn("submission socket {}: accept: {}", socket, e.toString());
                }
                continue;
            }
            if (!slots.tryAcquire()) {
                try (client) {
                    reply(Channels.newOutputStream(client), "error " + SendmailOptions.EX_TEMPFAIL
                            + " too many concurrent submissions; try again later");
                } catch (IOException e) {
                    // the client went away
                }
                continue;
            }
            thread(() -> {
                try {
                    serve(client);
                } finally {
                    slots.release();
                }
            }, "estafeta-pickup-submission").start();
        }
    }

    private void serve(SocketChannel client) {
        AtomicLong lastRead = new AtomicLong(System.nanoTime());
        ScheduledFuture<?> idle = watchdog.scheduleWithFixedDelay(() -> {
            if (System.nanoTime() - lastRead.get() > TimeUnit.SECONDS.toNanos(IDLE_SECONDS)) {
                close(client);
            }
        }, 10, 10, TimeUnit.SECONDS);
        try (client) {
            OutputStream out = Channels.newOutputStream(client);
            UnixDomainPrincipal peer = client.getOption(ExtendedSocketOptions.SO_PEERCRED);
            String user = peer.user().getName();
            Optional<Long> uid = Passwd.lookup(user).map(Passwd::uid);
            if (uid.isEmpty() && user.matches("\\d+")) {
                uid = Optional.of(Long.parseLong(user)); // no passwd entry: the JDK names the user by number
            }
            if (uid.isEmpty()) {
                reply(out, "error " + SendmailOptions.EX_OSERR + " no login name found for user " + user);
                return;
            }
            InputStream in = new BufferedInputStream(new InputStream() {
                final InputStream raw = Channels.newInputStream(client);

                @Override
                public int read() throws IOException {
                    lastRead.set(System.nanoTime());
                    return raw.read();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = raw.read(b, off, len);
                    lastRead.set(System.nanoTime());
                    return n;
                }
            }, 64 * 1024);
            String error = receive(in, out, user, uid.get());
            if (error != null) {
                reply(out, error);
            }
        } catch (IOException e) {
            log.debug("submission connection: {}", e.toString());
        } finally {
            idle.cancel(false);
        }
    }

    /** Reads one submission; returns the error line to send, or null once {@code ok ID} was sent. */
    private String receive(InputStream in, OutputStream out, String user, long uid) throws IOException {
        if (!SubmitProtocol.MAGIC.equals(SubmitProtocol.readLine(in))) {
            return "error " + SendmailOptions.EX_SOFTWARE + " protocol error: expected " + SubmitProtocol.MAGIC;
        }
        String sender = user;
        String fullName = "";
        Map<String, String> params = new LinkedHashMap<>();
        List<Maildrop.Recipient> rcpts = new ArrayList<>();
        while (true) {
            String line = SubmitProtocol.readLine(in);
            if (line == null) {
                throw new IOException("connection closed in the envelope");
            }
            if (line.equals(SubmitProtocol.DATA)) {
                break;
            }
            String[] f = line.split(" ", -1);
            switch (f[0]) {
                case "sender" -> sender = QueueFileFormat.unxtext(f[1]);
                case "fullname" -> fullName = QueueFileFormat.unxtext(f[1]);
                case "param" -> {
                    String name = QueueFileFormat.unxtext(f[1]);
                    if (!List.of("BODY", "RET", "ENVID").contains(name)) {
                        return "error " + SendmailOptions.EX_SOFTWARE + " protocol error: bad parameter " + name;
                    }
                    params.put(name, QueueFileFormat.unxtext(f[2]));
                }
                case "rcpt" -> {
                    if (rcpts.size() >= MAX_RECIPIENTS) {
                        return "error " + SendmailOptions.EX_USAGE + " too many recipients (at most "
                                + MAX_RECIPIENTS + ")";
                    }
                    String notify = QueueFileFormat.unxtext(f[2]);
                    rcpts.add(new Maildrop.Recipient(QueueFileFormat.unxtext(f[1]),
                            notify.isEmpty() ? List.of() : List.of(notify.split(","))));
                }
                default -> {
                    return "error " + SendmailOptions.EX_SOFTWARE + " protocol error: " + f[0];
                }
            }
        }
        if (rcpts.isEmpty()) {
            return "error " + SendmailOptions.EX_USAGE
                    + " Recipient addresses must be specified on the command line or via the -t option";
        }
        Instant now = Instant.now();
        QueueStore.Writer w = store.create(Maildrop.envelope(now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000,
                sender, params, rcpts, uid, fullName));
        boolean done = false;
        try {
            InputStream data = new SubmitProtocol.ChunkedInput(in);
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = data.read(buf, 0, buf.length)) >= 0) {
                w.write(buf, 0, n);
                if (sizeLimit > 0 && w.size() > sizeLimit) {
                    return "error " + SendmailOptions.EX_TEMPFAIL + " error writing queue file: File too large";
                }
            }
            w.commit(QueueName.MAILDROP);
            done = true;
        } catch (IOException e) {
            if (QueueStore.isStorageShortage(e)) {
                log.warn("maildrop: uid={}: error writing queue file: {}", uid, e.getMessage());
                return "error " + SendmailOptions.EX_TEMPFAIL + " error writing queue file: " + e.getMessage();
            }
            throw e;
        } finally {
            if (!done) {
                w.abort();
            }
        }
        reply(out, "ok " + w.id());
        committed.run();
        return null;
    }

    private static void reply(OutputStream out, String line) throws IOException {
        SubmitProtocol.writeLine(out, line.replace('\n', ' '));
        out.flush();
    }

    private static void close(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    /** Stops accepting and removes the socket; submissions in progress finish on their own threads. */
    @Override
    public synchronized void close() {
        closed = true;
        if (server != null) {
            close(server);
            server = null;
        }
        watchdog.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.warn("cannot remove the submission socket {}: {}", socket, e.toString());
        }
    }
}
