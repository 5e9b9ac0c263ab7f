package org.estafeta.table.socketmap;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A socketmap server for tests, on 127.0.0.1 (a free port) or a UNIX socket: one thread per connection, one
 * netstring reply per netstring request, the reply computed by {@link #answer} from the request text
 * ({@code "NAME KEY"}); a reply of {@code null} hangs up without answering, one starting with {@code RAW:} is
 * written as it is (no netstring framing). Counts connections and requests; stops everything on close.
 */
final class TestSocketmapServer implements Closeable {
    final ServerSocketChannel server;
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();
    final List<String> received = new CopyOnWriteArrayList<>();
    volatile Function<String, String> answer;
    /** When set, each connection is closed after this many replies. */
    volatile int repliesPerConnection = Integer.MAX_VALUE;
    private final Map<SocketChannel, Thread> clients = new ConcurrentHashMap<>();
    private final Thread acceptor;

    private TestSocketmapServer(ServerSocketChannel server, Function<String, String> answer) {
        this.server = server;
        this.answer = answer;
        acceptor = new Thread(this::acceptLoop, "socketmap-test-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static TestSocketmapServer inet(Function<String, String> answer) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open();
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return new TestSocketmapServer(s, answer);
    }

    static TestSocketmapServer unix(Path path, Function<String, String> answer) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(path));
        return new TestSocketmapServer(s, answer);
    }

    int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    /** The answers of a map named {@code name}: {@code found} keys as OK, other keys NOTFOUND. */
    static Function<String, String> map(String name, Map<String, String> found) {
        return request -> {
            if (!request.startsWith(name + " ")) {
                return "PERM unknown map name";
            }
            String value = found.get(request.substring(name.length() + 1));
            return value == null ? "NOTFOUND " : "OK " + value;
        };
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel c = server.accept();
                connections.incrementAndGet();
                Thread t = new Thread(() -> serve(c), "socketmap-test-client");
                t.setDaemon(true);
                clients.put(c, t);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel c) {
        try (c; InputStream in = Channels.newInputStream(c); OutputStream out = Channels.newOutputStream(c)) {
            for (int replies = 0; replies < repliesPerConnection; replies++) {
                String request = readNetstring(in);
                if (request == null) {
                    return;
                }
                requests.incrementAndGet();
                received.add(request);
                String reply = answer.apply(request);
                if (reply == null) {
                    return;
                }
                byte[] bytes = reply.startsWith("RAW:") ? reply.substring(4).getBytes(StandardCharsets.UTF_8)
                        : netstring(reply);
                out.write(bytes);
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            clients.remove(c);
        }
    }

    static byte[] netstring(String s) {
        byte[] data = s.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes((data.length + ":").getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(data);
        b.write(',');
        return b.toByteArray();
    }

    private static String readNetstring(InputStream in) throws IOException {
        int len = 0;
        int c = in.read();
        if (c < 0) {
            return null;
        }
        for (; c != ':'; c = in.read()) {
            if (c < '0' || c > '9') {
                throw new IOException("bad netstring length");
            }
            len = len * 10 + (c - '0');
        }
        byte[] data = in.readNBytes(len);
        if (data.length != len || in.read() != ',') {
            throw new IOException("bad netstring");
        }
        return new String(data, StandardCharsets.UTF_8);
    }

    /** Closes the connections the server holds (the clients see a hang-up), keeping the listener. */
    void dropConnections() throws IOException {
        for (SocketChannel c : clients.keySet()) {
            c.close();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        dropConnections();
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
