package org.estafeta.table.socketmap;

import java.io.Closeable;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * One connection to a socketmap server, speaking netstrings ({@code LEN:DATA,}) with a deadline on every
 * exchange. A non-blocking channel and its own selector bound connect, write and read alike, for TCP and UNIX-domain
 * sockets (whose channels have no read timeout of their own).
 *
 * <p><b>Threading:</b> one thread at a time (the pool hands a connection to one lookup). <b>Errors:</b> every
 * failure is a {@link NetstringException}: {@code TIME} for a deadline, {@code EOF} for a hang-up or any other
 * I/O error (as Postfix's netstring code classes them), {@code FORMAT}/{@code SIZE} for a bad reply.
 */
final class Connection implements Closeable {
    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer in = ByteBuffer.allocate(8192).flip();
    final long createdNanos;
    long idleSinceNanos;

    private Connection(SocketChannel channel, Selector selector, long now) {
        this.channel = channel;
        this.selector = selector;
        this.createdNanos = now;
        this.idleSinceNanos = now;
    }

    /** Connects to {@code endpoint} before {@code deadline} ({@link System#nanoTime()}); throws the cause. */
    static Connection open(Endpoint endpoint, long deadline) throws IOException {
        SocketChannel ch = endpoint.newChannel();
        Selector sel = null;
        try {
            ch.configureBlocking(false);
            sel = Selector.open();
            if (!ch.connect(endpoint.address())) {
                ch.register(sel, SelectionKey.OP_CONNECT);
                while (!ch.finishConnect()) {
                    if (!await(sel, deadline)) {
                        throw new SocketTimeoutException("Connection timed out");
                    }
                }
            }
            ch.register(sel, 0);
            return new Connection(ch, sel, System.nanoTime());
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            if (sel != null) {
                closeQuietly(sel);
            }
            throw e;
        }
    }

    /** Sends {@code payload} as one netstring and reads one netstring reply of at most {@code maxReply} bytes. */
    String exchange(String payload, int maxReply, long deadline) throws NetstringException {
        byte[] data = payload.getBytes(StandardCharsets.UTF_8);
        byte[] head = (data.length + ":").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer out = ByteBuffer.allocate(head.length + data.length + 1);
        out.put(head).put(data).put((byte) ',').flip();
        write(out, deadline);
        return readNetstring(maxReply, deadline);
    }

    private void write(ByteBuffer out, long deadline) throws NetstringException {
        try {
            SelectionKey key = channel.keyFor(selector);
            while (out.hasRemaining()) {
                if (channel.write(out) == 0) {
                    key.interestOps(SelectionKey.OP_WRITE);
                    if (!await(selector, deadline)) {
                        throw new NetstringException(NetstringException.Kind.TIME);
                    }
                }
            }
        } catch (NetstringException e) {
            throw e;
        } catch (IOException e) {
            throw new NetstringException(NetstringException.Kind.EOF, e);
        }
    }

    private String readNetstring(int maxReply, long deadline) throws NetstringException {
        long len = 0;
        int digits = 0;
        for (;;) {
            int c = readByte(deadline);
            if (c == ':' && digits > 0) {
                break;
            }
            if (c < '0' || c > '9' || ++digits > 10) {
                throw new NetstringException(NetstringException.Kind.FORMAT);
            }
            len = len * 10 + (c - '0');
        }
        if (len > maxReply) {
            throw new NetstringException(NetstringException.Kind.SIZE);
        }
        byte[] data = new byte[(int) len];
        for (int i = 0; i < data.length;) {
            if (!in.hasRemaining()) {
                fill(deadline);
            }
            int n = Math.min(in.remaining(), data.length - i);
            in.get(data, i, n);
            i += n;
        }
        if (readByte(deadline) != ',') {
            throw new NetstringException(NetstringException.Kind.FORMAT);
        }
        return new String(data, StandardCharsets.UTF_8);
    }

    private int readByte(long deadline) throws NetstringException {
        if (!in.hasRemaining()) {
            fill(deadline);
        }
        return in.get() & 0xff;
    }

    private void fill(long deadline) throws NetstringException {
        try {
            SelectionKey key = channel.keyFor(selector);
            in.clear();
            try {
                for (;;) {
                    int n = channel.read(in);
                    if (n < 0) {
                        throw new NetstringException(NetstringException.Kind.EOF);
                    }
                    if (n > 0) {
                        return;
                    }
                    key.interestOps(SelectionKey.OP_READ);
                    if (!await(selector, deadline)) {
                        throw new NetstringException(NetstringException.Kind.TIME);
                    }
                }
            } finally {
                in.flip();
            }
        } catch (NetstringException e) {
            throw e;
        } catch (IOException e) {
            throw new NetstringException(NetstringException.Kind.EOF, e);
        }
    }

    /** Waits for the registered interest until {@code deadline}; false when the time is up. */
    private static boolean await(Selector sel, long deadline) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        sel.selectedKeys().clear();
        sel.select(Math.max(1, left / 1_000_000));
        return deadline - System.nanoTime() > 0 || !sel.selectedKeys().isEmpty();
    }

    /** Whether the server has said something or hung up while the connection sat idle (then it is unusable). */
    boolean isBroken() {
        try {
            in.clear();
            int n = channel.read(in);
            in.flip();
            return n != 0;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() {
        closeQuietly(selector);
        closeQuietly(channel);
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
