package org.estafeta.transport.smtp.internal;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process SMTP peer for unit tests: a plain ServerSocket on a loopback address and a port in 28000-28999, or
 * ({@link #unix}) a UNIX-domain socket; each connection runs the test's {@link Script} on its own thread, and every
 * line received is recorded.
 */
final class ScriptedServer implements AutoCloseable {
    private static final AtomicInteger NEXT = new AtomicInteger(28000 + (int) (ProcessHandle.current().pid() % 40) * 10);

    /** What the server does on one connection. */
    interface Script {
        void run(Peer peer) throws IOException;
    }

    /** The TCP listener; null for a UNIX-domain server. */
    final ServerSocket socket;
    /** The UNIX-domain listener and its path; null for a TCP server. */
    final ServerSocketChannel unixSocket;
    final Path unixPath;
    final List<String> lines = Collections.synchronizedList(new ArrayList<>());
    final List<String> messages = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger connections = new AtomicInteger();
    private final List<Closeable> open = Collections.synchronizedList(new ArrayList<>());

    ScriptedServer(String address, Script script) throws IOException {
        this(address, 0, script);
    }

    /** On {@code address} and {@code port} (0: the next free one of the test range). */
    ScriptedServer(String address, int port, Script script) throws IOException {
        socket = bind(InetAddress.getByName(address), port);
        unixSocket = null;
        unixPath = null;
        acceptLoop(() -> {
            return new Peer(socket.accept());
        }, script);
    }

    private ScriptedServer(Path path, Script script) throws IOException {
        socket = null;
        unixPath = path;
        unixSocket = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        unixSocket.bind(UnixDomainSocketAddress.of(path));
        acceptLoop(() -> {
            SocketChannel ch = unixSocket.accept();
            return new Peer(null, ch, Channels.newInputStream(ch), Channels.newOutputStream(ch));
        }, script);
    }

    /** A server on a UNIX-domain socket at {@code path} (which must not exist yet). */
    static ScriptedServer unix(Path path, Script script) throws IOException {
        return new ScriptedServer(path, script);
    }

    private interface Acceptor {
        Peer accept() throws IOException;
    }

    private void acceptLoop(Acceptor acceptor, Script script) {
        Thread t = new Thread(() -> {
            while (true) {
                try {
                    Peer peer = acceptor.accept();
                    open.add(peer.connection);
                    connections.incrementAndGet();
                    Thread h = new Thread(() -> {
                        try (Closeable c = peer.connection) {
                            script.run(peer);
                        } catch (IOException e) {
                            // the client went away
                        }
                    }, "scripted-smtp-session");
                    h.setDaemon(true);
                    h.start();
                } catch (IOException e) {
                    return; // closed
                }
            }
        }, "scripted-smtp");
        t.setDaemon(true);
        t.start();
    }

    /** A free port of the test range on 127.0.0.1, for peers started by other programs. */
    static int freePort() throws IOException {
        try (ServerSocket s = bind(InetAddress.getLoopbackAddress(), 0)) {
            return s.getLocalPort();
        }
    }

    private static ServerSocket bind(InetAddress address, int port) throws IOException {
        if (port != 0) {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(address, port));
            return s;
        }
        for (int i = 0; i < 1000; i++) {
            int p = NEXT.getAndIncrement();
            if (p > 28999) {
                NEXT.set(28000);
                continue;
            }
            try {
                ServerSocket s = new ServerSocket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(address, p));
                return s;
            } catch (IOException e) {
                // taken: the next one
            }
        }
        throw new IOException("no free port in 28000-28999");
    }

    int port() {
        return socket.getLocalPort();
    }

    /** {@code [127.0.0.1]:PORT}. */
    String nexthop() {
        return "[" + socket.getInetAddress().getHostAddress() + "]:" + port();
    }

    /** The commands received that start with {@code prefix} (upper case compare). */
    List<String> commands(String prefix) {
        synchronized (lines) {
            return lines.stream().filter(l -> l.toUpperCase().startsWith(prefix)).toList();
        }
    }

    @Override
    public void close() throws IOException {
        if (socket != null) {
            socket.close();
        } else {
            unixSocket.close();
            Files.deleteIfExists(unixPath);
        }
        synchronized (open) {
            for (Closeable s : open) {
                s.close();
            }
        }
    }

    /** One connection, as the script sees it. */
    final class Peer {
        /** The TCP socket; null on a UNIX-domain connection. */
        final Socket socket;
        final Closeable connection;
        final InputStream in;
        final OutputStream out;

        /** A TCP connection (also one the script wrapped in TLS). */
        Peer(Socket socket) throws IOException {
            this(socket, socket, socket.getInputStream(), socket.getOutputStream());
        }

        Peer(Socket socket, Closeable connection, InputStream in, OutputStream out) {
            this.socket = socket;
            this.connection = connection;
            this.in = in;
            this.out = out;
        }

        void reply(String... replyLines) throws IOException {
            StringBuilder sb = new StringBuilder();
            for (String l : replyLines) {
                sb.append(l).append("\r\n");
            }
            out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** The next line without CRLF (recorded), or null at the end of the connection. */
        String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) >= 0) {
                if (c == '\n') {
                    String l = b.toString(StandardCharsets.ISO_8859_1);
                    l = l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
                    lines.add(l);
                    return l;
                }
                b.write(c);
            }
            return null;
        }

        /** The raw DATA content up to and without the final {@code .CRLF} (still dot-stuffed), recorded. */
        String data() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            long last = 0; // the last five bytes
            int c;
            while ((c = in.read()) >= 0) {
                b.write(c);
                last = ((last << 8) | c) & 0xff_ffff_ffffL;
                if (last == 0x0d_0a_2e_0d_0aL && b.size() >= 5) {
                    String m = new String(b.toByteArray(), 0, b.size() - 3, StandardCharsets.ISO_8859_1);
                    messages.add(m);
                    return m;
                }
                if (b.size() == 3 && last == 0x2e_0d_0aL) {
                    messages.add("");
                    return ""; // empty content: only the final dot
                }
            }
            return null;
        }

        /**
         * A server loop: greeting (unless null), EHLO with {@code keywords}, then each command answered by {@code answer}
         * (null: the default), DATA content read after 354, until QUIT or the end.
         */
        void serve(String greeting, List<String> keywords, Answer answer) throws IOException {
            if (greeting != null) {
                reply(greeting); // null: the session goes on after STARTTLS
            }
            String l;
            while ((l = line()) != null) {
                String cmd = l.length() >= 4 ? l.substring(0, 4).toUpperCase() : l.toUpperCase();
                String a = answer == null ? null : answer.to(l);
                if (a == null) {
                    a = switch (cmd) {
                        case "EHLO", "LHLO" -> ehlo(keywords);
                        case "DATA" -> "354 End data with <CR><LF>.<CR><LF>";
                        case "QUIT" -> "221 2.0.0 Bye";
                        default -> "250 2.0.0 Ok";
                    };
                }
                if (a.isEmpty()) {
                    continue; // the script answers nothing (a hang)
                }
                reply(a.split("\n"));
                if (cmd.equals("QUIT")) {
                    return;
                }
                if (cmd.equals("DATA") && a.startsWith("354")) {
                    data();
                    String done = answer == null ? null : answer.to(".");
                    if (done != null && !done.isEmpty()) {
                        reply(done.split("\n"));
                    } else if (done == null) {
                        reply("250 2.0.0 Ok: queued as TEST1");
                    }
                }
            }
        }

        private String ehlo(List<String> keywords) {
            StringBuilder sb = new StringBuilder("250");
            sb.append(keywords.isEmpty() ? " " : "-").append("scripted.test");
            for (int i = 0; i < keywords.size(); i++) {
                sb.append('\n').append(i == keywords.size() - 1 ? "250 " : "250-").append(keywords.get(i));
            }
            return sb.toString();
        }
    }

    /** The reply to one command line ({@code "."} for the end of data); null for the default, "" for none. */
    interface Answer {
        String to(String line);
    }
}
