package org.estafeta.sasl.dovecot;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslMechanismInfo.Flag;

/**
 * One client connection to Dovecot's auth server (its {@code auth-client} protocol, major version 1), shared by
 * every exchange that goes to the same socket: each request carries its own id, and Dovecot runs many at once on
 * one connection. The handshake ({@code VERSION}/{@code CPID} out, {@code VERSION}/{@code MECH}/{@code SPID}/
 * {@code CUID}/{@code COOKIE}/{@code DONE} in) happens in {@link #open}; its {@code MECH} lines are
 * {@link #mechanisms()}.
 *
 * <p><b>Threading:</b> safe for concurrent use. A daemon thread per connection reads Dovecot's lines and hands
 * each reply to the request waiting for its id; writes are serialized. <b>Blocking:</b> {@link #open} and
 * {@link #await} block, each for at most the timeout given; a write that blocks longer than the timeout closes
 * the connection. <b>Errors:</b> every failure is an {@link IOException} whose message names the socket as
 * configured; once the connection has failed it stays closed ({@link #isOpen()}) and every request waiting on it
 * fails at once.
 */
final class AuthConnection implements Closeable {
    /** Postfix's AUTH_PROTOCOL_MAJOR_VERSION; the minor version is informational. */
    static final int MAJOR_VERSION = 1;
    static final int MINOR_VERSION = 0;
    /** A longer line from Dovecot is a protocol error (its replies are short; this bounds our memory). */
    static final int MAX_LINE = 64 * 1024;
    private static final AtomicInteger CONNECTIONS = new AtomicInteger();

    private final AuthSocket socket;
    private final SocketChannel channel;
    private final ScheduledExecutorService timer;
    private final System.Logger log;
    private final Object writeLock = new Object();
    private final Map<Long, CompletableFuture<AuthReply>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final CompletableFuture<List<SaslMechanismInfo>> handshake = new CompletableFuture<>();
    private volatile boolean open = true;
    private volatile IOException lost;
    /** {@link System#nanoTime()} of the last bytes read from Dovecot. */
    private volatile long lastRead = System.nanoTime();
    /** Handshake state, used by the reader thread only. */
    private final List<SaslMechanismInfo> mechs = new ArrayList<>();
    private boolean versionSeen;

    private AuthConnection(AuthSocket socket, SocketChannel channel, ScheduledExecutorService timer,
            System.Logger log) {
        this.socket = socket;
        this.channel = channel;
        this.timer = timer;
        this.log = log;
    }

    /**
     * Connects and completes the handshake within {@code timeout}; the reply reader runs from then on.
     *
     * @throws IOException naming the socket when it cannot be reached, does not answer in time, or is not an
     *     auth-client socket
     */
    static AuthConnection open(AuthSocket socket, Duration timeout, ScheduledExecutorService timer,
            System.Logger log) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel ch;
        try {
            ch = connect(socket.connectAddress(), timeout);
        } catch (IOException e) {
            throw new IOException("SASL: Connect to Dovecot auth socket '" + socket.name() + "' failed: "
                    + describe(e), e);
        }
        AuthConnection c = new AuthConnection(socket, ch, timer, log);
        Thread reader = new Thread(c::readLoop, "dovecot-auth " + socket.name());
        reader.setDaemon(true);
        reader.start();
        try {
            c.write("VERSION\t" + MAJOR_VERSION + "\t" + MINOR_VERSION + "\nCPID\t" + clientPid() + "\n", timeout);
            c.handshake.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return c;
        } catch (TimeoutException e) {
            c.close();
            throw new IOException("SASL: Dovecot auth socket '" + socket.name() + "' did not complete its handshake within "
                    + timeout.toSeconds() + "s");
        } catch (ExecutionException e) {
            c.close();
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            c.close();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while connecting to Dovecot auth socket '" + socket.name() + "'");
        } catch (IOException e) {
            c.close();
            throw e;
        }
    }

    /**
     * The CPID we announce. Older Dovecot versions, and current ones on a login socket, drop a connection whose
     * process id another live connection already announced (its login processes use their real pids), so each
     * connection gets its own number above Linux's largest pid, made of our pid and a counter.
     */
    private static long clientPid() {
        long pid = ProcessHandle.current().pid() & 0x3ffff;
        return 0x40000000L | (pid << 12) | (CONNECTIONS.incrementAndGet() & 0xfff);
    }

    private static SocketChannel connect(SocketAddress address, Duration timeout) throws IOException {
        if (address instanceof InetSocketAddress inet && inet.isUnresolved()) {
            throw new UnknownHostException(inet.getHostString() + ": host not found");
        }
        SocketChannel ch = address instanceof UnixDomainSocketAddress ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        try {
            ch.configureBlocking(false);
            if (!ch.connect(address)) {
                long deadline = System.nanoTime() + timeout.toNanos();
                try (Selector selector = Selector.open()) {
                    ch.register(selector, SelectionKey.OP_CONNECT);
                    while (!ch.finishConnect()) {
                        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                        if (left <= 0) {
                            throw new SocketTimeoutException("timed out after " + timeout.toSeconds() + "s");
                        }
                        selector.select(left);
                    }
                }
            }
            ch.configureBlocking(true);
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException || (m != null && m.contains("No such file"))) {
            return "No such file or directory";
        }
        return m == null ? e.getClass().getSimpleName() : m;
    }

    AuthSocket socket() {
        return socket;
    }

    /** The mechanisms of the handshake's {@code MECH} lines, without those Dovecot marks {@code private}. */
    List<SaslMechanismInfo> mechanisms() {
        return handshake.getNow(List.of());
    }

    boolean isOpen() {
        return open;
    }

    /** A request id unused on this connection (Dovecot's ids are unsigned 32-bit numbers, never 0). */
    long nextId() {
        long id;
        do {
            id = ids.incrementAndGet() & 0xffffffffL;
        } while (id == 0);
        return id;
    }

    /**
     * Sends {@code line} (a complete request for {@code id}, without the newline) and registers for its reply.
     * A write failure closes the connection and is thrown; the request was then not sent.
     */
    CompletableFuture<AuthReply> send(long id, String line, Duration timeout) throws IOException {
        CompletableFuture<AuthReply> reply = new CompletableFuture<>();
        pending.put(id, reply);
        IOException gone = lost;
        if (!open) {
            pending.remove(id);
            throw gone != null ? gone : closedException();
        }
        try {
            write(line + "\n", timeout);
        } catch (IOException e) {
            pending.remove(id);
            throw e;
        }
        return reply;
    }

    /**
     * Waits up to {@code timeout} for the reply to {@code id}; no reply in time is an {@link IOException} and the
     * request is abandoned (a late reply is dropped). When Dovecot has sent nothing at all on this connection since
     * the request went out, the connection is taken for dead and closed; otherwise it stays, because Dovecot
     * delays single replies on purpose (auth penalty for a client address that failed, up to 15 s).
     */
    AuthReply await(long id, CompletableFuture<AuthReply> reply, Duration timeout) throws IOException {
        long since = System.nanoTime();
        try {
            return reply.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            pending.remove(id);
            String why = "SASL: no reply from Dovecot auth socket '" + socket.name() + "' within " + timeout.toSeconds()
                    + "s";
            if (lastRead - since < 0) {
                log.log(System.Logger.Level.WARNING, why + "; closing the connection");
                fail(new IOException(why));
            }
            throw new IOException(why);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            pending.remove(id);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for Dovecot auth socket '" + socket.name() + "'");
        }
    }

    private void write(String text, Duration timeout) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        // a write that blocks (Dovecot stopped reading) is ended by closing the channel
        ScheduledFuture<?> guard;
        try {
            guard = timer.schedule(() -> fail(new IOException("SASL: write to Dovecot auth socket '" + socket.name()
                    + "' timed out after " + timeout.toSeconds() + "s")), timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            IOException stopping = new IOException("SASL: the Dovecot back end is stopping");
            fail(stopping);
            throw stopping;
        }
        try {
            synchronized (writeLock) {
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            }
        } catch (IOException e) {
            IOException why = lost != null ? lost
                    : new IOException("SASL: write to Dovecot auth socket '" + socket.name() + "' failed: " + describe(e), e);
            fail(why);
            throw why;
        } finally {
            guard.cancel(false);
        }
    }

    private IOException closedException() {
        return new IOException("SASL: Connection lost to Dovecot auth socket '" + socket.name() + "'");
    }

    /** Closes the connection; requests waiting on it fail. */
    @Override
    public void close() {
        fail(closedException());
    }

    private void fail(IOException why) {
        synchronized (this) {
            if (lost == null) {
                lost = why;
            }
            open = false;
        }
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
        handshake.completeExceptionally(lost);
        for (Long id : List.copyOf(pending.keySet())) {
            CompletableFuture<AuthReply> f = pending.remove(id);
            if (f != null) {
                f.completeExceptionally(lost);
            }
        }
    }

    private void readLoop() {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        try {
            while (open) {
                buf.clear();
                if (channel.read(buf) < 0) {
                    throw new EOFException();
                }
                lastRead = System.nanoTime();
                buf.flip();
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    if (b == '\n') {
                        handle(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                    } else if (line.size() >= MAX_LINE) {
                        throw new IOException("SASL: Protocol error: line longer than " + MAX_LINE
                                + " bytes from Dovecot auth socket '" + socket.name() + "'");
                    } else {
                        line.write(b);
                    }
                }
            }
        } catch (IOException e) {
            // EOF, a protocol error, or the channel closed by fail()
            fail(e.getMessage() != null && e.getMessage().startsWith("SASL: ") ? e : closedException());
        } catch (RuntimeException e) {
            fail(new IOException("SASL: Protocol error on Dovecot auth socket '" + socket.name() + "': " + e, e));
        }
    }

    private void handle(String line) throws IOException {
        if (handshake.isDone()) {
            AuthReply.parse(line).ifPresent(r -> {
                CompletableFuture<AuthReply> f = pending.remove(r.id());
                if (f != null) {
                    f.complete(r);
                }
                // a reply to a request nobody waits for any more (timed out): dropped
            });
            return;
        }
        String[] f = line.split("\t", -1);
        switch (f[0]) {
            case "VERSION" -> {
                int major;
                try {
                    major = Integer.parseInt(f[1]);
                    Integer.parseInt(f[2]);
                } catch (RuntimeException e) {
                    throw new IOException("SASL: Protocol version error on Dovecot auth socket '" + socket.name() + "'");
                }
                if (major != MAJOR_VERSION) {
                    throw new IOException("SASL: Protocol version mismatch (" + major + " vs. " + MAJOR_VERSION
                            + ") on Dovecot auth socket '" + socket.name() + "'");
                }
                versionSeen = true;
            }
            case "MECH" -> {
                if (f.length < 2 || f[1].isEmpty()) {
                    return;
                }
                Set<Flag> flags = EnumSet.noneOf(Flag.class);
                for (int i = 2; i < f.length; i++) {
                    switch (f[i].toLowerCase(Locale.ROOT)) {
                        case "private" -> {
                            return; // for Dovecot's own use, never offered (Postfix skips it too)
                        }
                        case "anonymous" -> flags.add(Flag.ANONYMOUS);
                        case "plaintext" -> flags.add(Flag.PLAINTEXT);
                        case "dictionary" -> flags.add(Flag.DICTIONARY);
                        case "active" -> flags.add(Flag.ACTIVE);
                        case "forward-secrecy" -> flags.add(Flag.FORWARD_SECRECY);
                        case "mutual-auth" -> flags.add(Flag.MUTUAL_AUTH);
                        default -> {
                            // a property Postfix does not know either
                        }
                    }
                }
                mechs.add(new SaslMechanismInfo(f[1], flags));
            }
            case "SPID" -> {
                // auth-master and auth-userdb answer VERSION and SPID and nothing else
                if (mechs.isEmpty()) {
                    throw new IOException("SASL: Connected to wrong auth socket (auth-master instead of auth-client): '"
                            + socket.name() + "'");
                }
            }
            case "DONE" -> {
                if (!versionSeen) {
                    throw new IOException("SASL: Protocol version error on Dovecot auth socket '" + socket.name() + "'");
                }
                handshake.complete(List.copyOf(mechs));
            }
            default -> {
                // CUID, COOKIE and whatever a later Dovecot adds
            }
        }
    }
}
