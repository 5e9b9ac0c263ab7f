package org.estafeta.sasl.dovecot;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A scripted stand-in for Dovecot's auth-client socket (a UNIX socket in a test directory), for what a real
 * Dovecot will not do on demand: stay silent, answer with another protocol version, report a temporary failure.
 * Each accepted connection runs {@link Script} on its own thread; every line received is kept.
 */
final class FakeAuthServer implements AutoCloseable {
    /** What the server does with one connection. */
    interface Script {
        void run(Peer peer) throws IOException, InterruptedException;
    }

    /** One accepted connection. */
    static final class Peer {
        private final BufferedReader in;
        private final OutputStream out;
        private final FakeAuthServer server;

        Peer(SocketChannel ch, FakeAuthServer server) {
            this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            this.out = Channels.newOutputStream(ch);
            this.server = server;
        }

        /** The next line from the client (null at its end); kept in {@link FakeAuthServer#received}. */
        String readLine() throws IOException {
            String line = in.readLine();
            if (line != null) {
                server.received.add(line);
            }
            return line;
        }

        void send(String... lines) throws IOException {
            out.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /** Dovecot's handshake with PLAIN and LOGIN, after reading the client's VERSION and CPID. */
        void handshake() throws IOException {
            readLine();
            readLine();
            send("VERSION\t1\t2", "MECH\tPLAIN\tplaintext", "MECH\tLOGIN\tplaintext", "MECH\tDOVECOT-TOKEN\tprivate",
                    "SPID\t4242", "CUID\t7", "COOKIE\t0123456789abcdef0123456789abcdef", "DONE");
        }
    }

    final Path path;
    final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private final ServerSocketChannel server;
    private final List<SocketChannel> accepted = new ArrayList<>();
    private final Thread acceptor;

    FakeAuthServer(Path path, Script script) throws IOException {
        this.path = path;
        Files.deleteIfExists(path);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        acceptor = new Thread(() -> {
            try {
                while (true) {
                    SocketChannel ch = server.accept();
                    synchronized (accepted) {
                        accepted.add(ch);
                    }
                    Thread t = new Thread(() -> {
                        try {
                            script.run(new Peer(ch, this));
                        } catch (IOException | InterruptedException e) {
                            // the test closed it
                        }
                    }, "fake-auth-peer");
                    t.setDaemon(true);
                    t.start();
                }
            } catch (IOException e) {
                // closed
            }
        }, "fake-auth-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int connections() {
        synchronized (accepted) {
            return accepted.size();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (accepted) {
            for (SocketChannel ch : accepted) {
                ch.close();
            }
        }
        Files.deleteIfExists(path);
    }
}
