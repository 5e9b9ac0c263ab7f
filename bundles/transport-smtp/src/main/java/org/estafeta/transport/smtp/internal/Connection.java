package org.estafeta.transport.smtp.internal;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.ssl.SslHandler;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;

/**
 * One SMTP/LMTP connection (TCP, or a UNIX-domain socket for lmtp's {@code unix:} next hops), used from one
 * delivery thread at a time: Netty does the I/O on its event loop, the caller blocks on {@link #read} and on writes
 * with the timeouts of the protocol stage, and a peer that hangs or goes away becomes a {@link SessionException}.
 */
final class Connection {
    /** Longest reply line taken; Postfix's line_length_limit is 2048. */
    private static final int MAX_LINE = 8192;
    /** The connect wait when {@code *_connect_timeout} is 0 (the system's own, bounded for safety). */
    private static final long SYSTEM_CONNECT_WAIT_MS = 180_000;
    private static final Object EOF = new Object();

    final HostFinder.Target target;
    private final Channel channel;
    private final BlockingQueue<Object> replies;
    private final ReplyReader reader;
    final long createdNanos = System.nanoTime();

    // what EHLO/LHLO announced; kept with the connection for reuse from the cache
    boolean esmtp;
    boolean pipelining;
    boolean dsn;
    boolean eightBitMime;
    boolean smtputf8;
    boolean startTls;
    /** The TLS session after STARTTLS, else null (plain text); kept with the connection for reuse. */
    SSLSession tls;
    /** Whether the server certificate satisfied smtp_tls_security_level verify or secure. */
    boolean verified;
    /** 0: SIZE not announced; -1: announced without a limit; else the limit. */
    long sizeLimit;
    /** AUTH was announced and SASL is enabled (Postfix's SMTP_FEATURE_AUTH). */
    boolean auth;
    /** The announced mechanisms {@code *_sasl_mechanism_filter} lets through; null when there are none. */
    List<String> authMechanisms;
    /**
     * {@link SaslPasswords.Credentials#identity()} of the credentials this session authenticated with, null when
     * it did not authenticate: a cached connection is only reused for the same credentials.
     */
    String authIdentity;
    int reuseCount;
    long cacheToken;

    /** A stage of the conversation failed: the server went away, or did not answer in time. */
    static final class SessionException extends Exception {
        private static final long serialVersionUID = 1L;
        final boolean timeout;
        final String where;

        SessionException(boolean timeout, String where) {
            super((timeout ? "timed out while " : "lost connection while ") + where, null, false, false);
            this.timeout = timeout;
            this.where = where;
        }
    }

    /** The connection could not be made; the message is Postfix's errno text ({@code Connection refused}). */
    static final class ConnectFailure extends Exception {
        private static final long serialVersionUID = 1L;

        ConnectFailure(String message) {
            super(message, null, false, false);
        }
    }

    private Connection(HostFinder.Target target, Channel channel, BlockingQueue<Object> replies) {
        this.target = target;
        this.channel = channel;
        this.replies = replies;
        this.reader = channel.pipeline().get(ReplyReader.class);
    }

    /**
     * Connects to {@code target}, from {@code bind} when not null: TCP, or for a UNIX-domain target Netty's NIO
     * domain socket channel (Java 16+ {@link java.net.UnixDomainSocketAddress}, no native library) on the same event
     * loops; everything after the connect is the same for both.
     *
     * @param connectTimeout 0 for the system's own
     * @param bind null, or the local address of a TCP connection (never used for a UNIX-domain socket)
     */
    static Connection open(EventLoopGroup group, HostFinder.Target target, Duration connectTimeout,
            InetSocketAddress bind) throws ConnectFailure, InterruptedException {
        BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
        Bootstrap b = new Bootstrap().group(group)
                .channel(target.isUnix() ? NioDomainSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new LineBasedFrameDecoder(MAX_LINE, true, false), new ReplyReader(replies));
                    }
                });
        if (!target.isUnix()) {
            b.option(ChannelOption.TCP_NODELAY, true);
        }
        SocketAddress remote = target.socketAddress();
        ChannelFuture f = bind == null || target.isUnix() ? b.connect(remote) : b.connect(remote, bind);
        long wait = connectTimeout.isZero() ? SYSTEM_CONNECT_WAIT_MS : connectTimeout.toMillis() + 2000;
        if (!f.await(wait)) {
            f.cancel(false);
            f.channel().close();
            throw new ConnectFailure("Connection timed out");
        }
        if (!f.isSuccess()) {
            throw new ConnectFailure(errnoText(f.cause()));
        }
        return new Connection(target, f.channel(), replies);
    }

    /** The strerror() text Postfix would log for a failed connect. */
    static String errnoText(Throwable t) {
        if (t instanceof ConnectTimeoutException) {
            return "Connection timed out";
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        for (String known : List.of("Connection refused", "No route to host", "Network is unreachable",
                "Connection timed out", "Cannot assign requested address", "Address already in use",
                "Connection reset by peer", "Permission denied", "No such file or directory")) {
            if (m.contains(known)) {
                return known;
            }
        }
        if (t instanceof NoRouteToHostException) {
            return "No route to host";
        }
        if (t instanceof ConnectException) {
            return "Connection refused";
        }
        int colon = m.indexOf(':');
        return colon > 0 ? m.substring(0, colon) : m;
    }

    boolean isOpen() {
        return channel.isActive();
    }

    /** Runs {@code task} on this connection's event loop after {@code delay}. */
    void schedule(Runnable task, Duration delay) {
        channel.eventLoop().schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Sends commands (each gets CRLF) in one write. Errors show up in the next {@link #read}. */
    void send(String... commands) {
        StringBuilder sb = new StringBuilder();
        for (String c : commands) {
            sb.append(c).append("\r\n");
        }
        channel.writeAndFlush(Unpooled.copiedBuffer(sb, StandardCharsets.UTF_8));
    }

    /** Writes {@code data} and waits until it left, at most {@code timeout}. */
    void write(ByteBuf data, Duration timeout, String where) throws SessionException, InterruptedException {
        ChannelFuture f = channel.writeAndFlush(data);
        if (!f.await(timeout.toMillis())) {
            throw new SessionException(true, where);
        }
        if (!f.isSuccess()) {
            throw new SessionException(false, where);
        }
    }

    /** The next reply, waiting at most {@code timeout}. */
    Response read(Duration timeout, String where) throws SessionException, InterruptedException {
        Object r = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (r == null) {
            throw new SessionException(true, where);
        }
        if (r == EOF) {
            replies.offer(EOF); // every later read sees it too
            throw new SessionException(false, where);
        }
        return (Response) r;
    }

    /**
     * Sends STARTTLS. Reading stops after its reply: whatever the server sends after it in plain text is
     * discarded, so that nothing injected before the TLS handshake is taken as a reply.
     */
    void sendStartTls() {
        reader.stopAfterReply = true;
        send("STARTTLS");
    }

    /** After a STARTTLS reply that was not 2xx: read plain text again. */
    void resumePlain() throws InterruptedException {
        channel.eventLoop().submit(() -> reader.discarding = false).await();
    }

    /**
     * After a 2xx STARTTLS reply: the TLS handshake with {@code engine}, at most {@code timeout}. The line decoder
     * is replaced (bytes it held are dropped), and from then on only decrypted data is read.
     *
     * @return the TLS session
     * @throws javax.net.ssl.SSLException when the handshake failed, timed out, or the server went away (the
     *         connection is then closed)
     */
    SSLSession handshake(SSLEngine engine, Duration timeout) throws InterruptedException, javax.net.ssl.SSLException {
        SslHandler ssl = new SslHandler(engine);
        ssl.setHandshakeTimeoutMillis(timeout.toMillis());
        io.netty.util.concurrent.Future<?> installed = channel.eventLoop().submit(() -> {
            channel.pipeline().replace(LineBasedFrameDecoder.class, "lines", new LineBasedFrameDecoder(MAX_LINE, true, false));
            replies.removeIf(r -> r != EOF);
            channel.pipeline().addFirst("tls", ssl);
            reader.discarding = false;
        });
        if (!installed.await(timeout.toMillis()) || !installed.isSuccess()) {
            channel.close();
            throw new javax.net.ssl.SSLHandshakeException("lost connection before the handshake");
        }
        io.netty.util.concurrent.Future<Channel> done = ssl.handshakeFuture();
        if (!done.await(timeout.toMillis() + 1000)) {
            channel.close();
            throw new javax.net.ssl.SSLHandshakeException("handshake timed out");
        }
        if (!done.isSuccess()) {
            channel.close();
            Throwable t = done.cause();
            if (t instanceof javax.net.ssl.SSLException e) {
                throw e;
            }
            throw new javax.net.ssl.SSLHandshakeException(String.valueOf(t));
        }
        tls = engine.getSession();
        return tls;
    }

    /** Sends QUIT without waiting for the reply (Postfix's smtp_skip_quit_response), then closes. */
    void quit(Duration timeout) {
        if (channel.isActive()) {
            ChannelFuture f = channel.writeAndFlush(Unpooled.copiedBuffer("QUIT\r\n", StandardCharsets.US_ASCII));
            f.addListener(x -> channel.close());
            channel.eventLoop().schedule(() -> channel.close(), timeout.toMillis(), TimeUnit.MILLISECONDS);
        } else {
            channel.close();
        }
    }

    void close() {
        channel.close();
    }

    /** Collects reply lines into replies; the end of the connection is {@link #EOF}. */
    private static final class ReplyReader extends SimpleChannelInboundHandler<ByteBuf> {
        private final BlockingQueue<Object> replies;
        private final List<String> lines = new ArrayList<>();
        /** Set before STARTTLS: after the next complete reply, {@link #discarding} starts. */
        volatile boolean stopAfterReply;
        /** Between the STARTTLS reply and the TLS handshake (or the return to plain text): input is dropped. */
        volatile boolean discarding;

        ReplyReader(BlockingQueue<Object> replies) {
            this.replies = replies;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
            if (discarding) {
                return;
            }
            String line = msg.toString(StandardCharsets.ISO_8859_1);
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            lines.add(line);
            if (!Response.continues(line)) {
                // decided before the reply is handed over: the reader may send STARTTLS as soon as it has it
                if (stopAfterReply) {
                    stopAfterReply = false;
                    discarding = true;
                }
                replies.offer(Response.of(List.copyOf(lines)));
                lines.clear();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            replies.offer(EOF);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
