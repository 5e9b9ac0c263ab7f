package org.estafeta.master.internal;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;

/**
 * master_control - the control socket: a Unix-domain stream socket (normally
 * {@code $queue_directory/private/control}). A client sends one UTF-8 line; the server answers with the
 * {@link Reply}'s lines and a last line {@code exit N}, then closes the connection. One thread per connection.
 */
final class ControlServer implements Closeable {
    /** Longest request line accepted. */
    static final int MAX_REQUEST = 4096;

    /** The answer to one request; {@code after} runs once the answer is written and the connection closed. */
    record Reply(List<String> lines, int exit, Runnable after) {
        Reply(List<String> lines, int exit) {
            this(lines, exit, null);
        }
    }

    /** Turns a request line into a reply. Called on the connection's thread. */
    interface Handler {
        Reply handle(String request);
    }

    private final Path socket;
    private final Handler handler;
    private final Logger log;
    private final long requestTimeoutMillis;
    private final AtomicInteger connections = new AtomicInteger();
    private ServerSocketChannel server;
    private Thread acceptor;
    private final ScheduledExecutorService watchdog =
            Executors.newSingleThreadScheduledExecutor(r -> daemonThread(r, "estafeta-control-watchdog"));
    private volatile boolean closed;

    ControlServer(Path socket, Handler handler, Logger log, long requestTimeoutMillis) {
        this.socket = socket;
        this.handler = handler;
        this.log = log;
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    Path socket() {
        return socket;
    }

    /**
     * Creates the socket's directory (mode 0700, as Postfix's {@code private/}), removes a stale socket file
     * left by a crash (the launcher's lock guarantees that no other gateway uses this queue directory) and
     * starts accepting.
     */
    synchronized void start() throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        Files.deleteIfExists(socket);
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw new IOException("cannot bind the control socket " + socket + ": " + e.getMessage(), e);
        }
        server = channel;
        acceptor = daemonThread(this::acceptLoop, "estafeta-control");
        acceptor.start();
    }

    private static Thread daemonThread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
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
                    log.warn("control socket {}: accept: {}", socket, e.toString());
                }
                continue;
            }
            daemonThread(() -> serve(client), "estafeta-control-" + connections.incrementAndGet()).start();
        }
    }

    private void serve(SocketChannel client) {
        Reply reply;
        try (client) {
            ScheduledFuture<?> timeout;
            try {
                timeout = watchdog.schedule(() -> closeQuietly(client), requestTimeoutMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                return; // closing
            }
            String request;
            try {
                request = readLine(client);
            } finally {
                timeout.cancel(false);
            }
            if (request == null) {
                return;
            }
            try {
                reply = handler.handle(request);
            } catch (RuntimeException e) {
                log.error("control request \"{}\": {}", request, e.toString(), e);
                reply = new Reply(List.of("error: internal error: " + e), 1);
            }
            write(client, reply);
        } catch (IOException e) {
            log.debug("control connection: {}", e.toString());
            return;
        }
        if (reply.after() != null) {
            reply.after().run();
        }
    }

    /** Reads up to the first newline; null when the client closed first, sent too much or was too slow. */
    private static String readLine(SocketChannel client) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(512);
        while (true) {
            buf.clear();
            int n;
            try {
                n = client.read(buf);
            } catch (AsynchronousCloseException e) {
                return null;
            }
            if (n < 0) {
                // No newline before end of stream: accept what came as the request (a client may half-close).
                return line.size() == 0 ? null : decode(line);
            }
            for (int i = 0; i < n; i++) {
                byte b = buf.get(i);
                if (b == '\n') {
                    return decode(line);
                }
                line.write(b);
                if (line.size() > MAX_REQUEST) {
                    write(client, new Reply(List.of("error: request longer than " + MAX_REQUEST + " bytes"), 1));
                    return null;
                }
            }
        }
    }

    private static String decode(ByteArrayOutputStream line) {
        String s = line.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    private static void write(SocketChannel client, Reply reply) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String line : reply.lines()) {
            out.append(line.replace('\n', ' ')).append('\n');
        }
        out.append("exit ").append(reply.exit()).append('\n');
        ByteBuffer bytes = ByteBuffer.wrap(out.toString().getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
            client.write(bytes);
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    /** Stops accepting and removes the socket file. Connections being served finish on their own. */
    @Override
    public synchronized void close() {
        closed = true;
        if (server != null) {
            closeQuietly(server);
            server = null;
        }
        if (acceptor != null) {
            try {
                acceptor.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            acceptor = null;
        }
        watchdog.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.warn("cannot remove the control socket {}: {}", socket, e.toString());
        }
    }
}
