package org.estafeta.table.sql;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.net.SocketFactory;

/**
 * UNIX-domain sockets for the JDBC drivers, which only speak TCP without extra native libraries: both drivers
 * take a {@code socketFactory} class name. A socket path is registered under a made-up port number
 * ({@link #register}); the driver is pointed at {@code localhost:THAT_PORT} and the socket this factory makes
 * connects to the path instead. Reads and writes honour the driver's socket timeout (a selector wait), so a
 * stuck server cannot hold a lookup forever.
 *
 * <p>Thread-safe. Instantiated by the drivers by name, with the bundle's own class loader.
 */
public final class UnixSocketFactory extends SocketFactory {
    private static final Map<Path, Integer> PORTS = new ConcurrentHashMap<>();
    private static final Map<Integer, Path> PATHS = new ConcurrentHashMap<>();

    public UnixSocketFactory() {
    }

    /** pgjdbc passes {@code socketFactoryArg}; unused. */
    public UnixSocketFactory(String unused) {
    }

    /** The made-up port that stands for {@code path}. */
    static int register(Path path) {
        return PORTS.computeIfAbsent(path.toAbsolutePath().normalize(), p -> {
            synchronized (PATHS) {
                int port = PATHS.size() + 1;
                PATHS.put(port, p);
                return port;
            }
        });
    }

    @Override
    public Socket createSocket() {
        return new UnixSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        Socket s = createSocket();
        s.connect(InetSocketAddress.createUnresolved(host, port));
        return s;
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return createSocket(host.getHostAddress(), port);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return createSocket(address, port);
    }

    /** A blocking-style socket over a non-blocking UNIX-domain channel. */
    private static final class UnixSocket extends Socket {
        private SocketChannel channel;
        private Selector selector;
        private SelectionKey key;
        private volatile int timeout;
        private volatile boolean closed;

        @Override
        public synchronized void connect(SocketAddress endpoint, int connectTimeout) throws IOException {
            if (!(endpoint instanceof InetSocketAddress inet)) {
                throw new SocketException("not an address this factory made: " + endpoint);
            }
            Path path = PATHS.get(inet.getPort());
            if (path == null) {
                throw new SocketException("no UNIX-domain socket registered for port " + inet.getPort());
            }
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(path));
                ch.configureBlocking(false);
                selector = Selector.open();
                key = ch.register(selector, 0);
            } catch (IOException e) {
                ch.close();
                throw new SocketException(path + ": " + e.getMessage());
            }
            channel = ch;
        }

        @Override
        public void connect(SocketAddress endpoint) throws IOException {
            connect(endpoint, 0);
        }

        private void await(int op) throws IOException {
            key.interestOps(op);
            int n = selector.select(timeout);
            key.interestOps(0);
            if (n == 0 && timeout > 0 && !closed) {
                selector.selectedKeys().clear();
                throw new SocketTimeoutException("Read timed out");
            }
            selector.selectedKeys().clear();
        }

        @Override
        public InputStream getInputStream() throws IOException {
            checkOpen();
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    int n = read(one, 0, 1);
                    return n < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) {
                        return 0;
                    }
                    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                    while (true) {
                        checkOpen();
                        int n = channel.read(buf);
                        if (n != 0) {
                            return n;
                        }
                        await(SelectionKey.OP_READ);
                    }
                }

                @Override
                public int available() throws IOException {
                    return 0;
                }

                @Override
                public void close() throws IOException {
                    UnixSocket.this.close();
                }
            };
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            checkOpen();
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                    while (buf.hasRemaining()) {
                        checkOpen();
                        if (channel.write(buf) == 0) {
                            await(SelectionKey.OP_WRITE);
                        }
                    }
                }

                @Override
                public void close() throws IOException {
                    UnixSocket.this.close();
                }
            };
        }

        private void checkOpen() throws SocketException {
            if (channel == null || closed) {
                throw new SocketException("Socket is closed");
            }
        }

        @Override
        public synchronized void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (selector != null) {
                selector.close();
            }
            if (channel != null) {
                channel.close();
            }
        }

        @Override
        public boolean isConnected() {
            return channel != null;
        }

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public boolean isInputShutdown() {
            return closed;
        }

        @Override
        public boolean isOutputShutdown() {
            return closed;
        }

        @Override
        public void shutdownInput() throws IOException {
            close();
        }

        @Override
        public void shutdownOutput() throws IOException {
            close();
        }

        @Override
        public void setSoTimeout(int timeout) {
            this.timeout = timeout;
        }

        @Override
        public int getSoTimeout() {
            return timeout;
        }

        @Override
        public void setTcpNoDelay(boolean on) {
        }

        @Override
        public boolean getTcpNoDelay() {
            return true;
        }

        @Override
        public void setKeepAlive(boolean on) {
        }

        @Override
        public boolean getKeepAlive() {
            return false;
        }

        @Override
        public void setSoLinger(boolean on, int linger) {
        }

        @Override
        public int getSoLinger() {
            return -1;
        }

        @Override
        public void setReceiveBufferSize(int size) {
        }

        @Override
        public int getReceiveBufferSize() {
            return 65536;
        }

        @Override
        public void setSendBufferSize(int size) {
        }

        @Override
        public int getSendBufferSize() {
            return 65536;
        }

        @Override
        public InetAddress getInetAddress() {
            return InetAddress.getLoopbackAddress();
        }

        @Override
        public InetAddress getLocalAddress() {
            return InetAddress.getLoopbackAddress();
        }

        @Override
        public SocketAddress getRemoteSocketAddress() {
            return null;
        }

        @Override
        public String toString() {
            return "UnixSocket[" + channel + "]";
        }
    }
}
