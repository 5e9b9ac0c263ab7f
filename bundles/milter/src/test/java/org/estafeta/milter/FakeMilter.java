package org.estafeta.milter;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A scripted milter for unit tests: accepts connections (on 127.0.0.1 or a unix socket), records every packet the
 * client sends, and answers each with what the script returns (nothing for SMFIC_MACRO, SMFIC_ABORT and SMFIC_QUIT
 * unless scripted). SMFIC_OPTNEG is answered with {@link #optneg}.
 */
public final class FakeMilter implements AutoCloseable {
    /** One packet from the client. */
    public record Packet(char command, byte[] data) {
        /** The NUL-terminated strings of the data, from byte {@code from}. */
        public List<String> strings(int from) {
            List<String> out = new ArrayList<>();
            int start = from;
            for (int i = from; i < data.length; i++) {
                if (data[i] == 0) {
                    out.add(new String(data, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return out;
        }

        public List<String> strings() {
            return strings(0);
        }
    }

    private final ServerSocketChannel server;
    private final String address;
    private final Thread thread;
    public final List<Packet> received = new CopyOnWriteArrayList<>();
    public volatile byte[] optneg = optneg(6, Protocol.MY_ACTIONS, 0);
    public volatile Function<Packet, List<byte[]>> script = p -> defaultReply(p);
    public volatile int connections;
    private volatile SocketChannel current;

    private FakeMilter(ServerSocketChannel server, String address) {
        this.server = server;
        this.address = address;
        this.thread = new Thread(this::serve, "fake-milter");
        thread.setDaemon(true);
        thread.start();
    }

    public static FakeMilter inet() throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open();
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return new FakeMilter(s, "inet:127.0.0.1:" + ((InetSocketAddress) s.getLocalAddress()).getPort());
    }

    public static FakeMilter unix(Path socket) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(socket));
        return new FakeMilter(s, "unix:" + socket);
    }

    public String address() {
        return address;
    }

    /** The commands received so far, e.g. "OCDH". */
    public String commands() {
        StringBuilder b = new StringBuilder();
        received.forEach(p -> b.append(p.command()));
        return b.toString();
    }

    /** Received packets with this command. */
    public List<Packet> packets(char command) {
        return received.stream().filter(p -> p.command() == command).toList();
    }

    public static List<byte[]> defaultReply(Packet p) {
        return switch (p.command()) {
            case 'D', 'A', 'Q' -> List.of();
            default -> List.of(reply('c'));
        };
    }

    private void serve() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                current = ch;
                connections++;
                Thread t = new Thread(() -> session(ch), "fake-milter-session");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void session(SocketChannel ch) {
        try (ch) {
            DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
            OutputStream out = Channels.newOutputStream(ch);
            while (true) {
                int len;
                try {
                    len = in.readInt();
                } catch (IOException e) {
                    break;
                }
                byte[] packet = in.readNBytes(len);
                Packet p = new Packet((char) packet[0], java.util.Arrays.copyOfRange(packet, 1, packet.length));
                received.add(p);
                List<byte[]> replies = p.command() == 'O' ? List.of(optneg) : script.apply(p);
                for (byte[] r : replies) {
                    out.write(r);
                }
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            // closed, or a scripted hang-up
        }
    }

    public static byte[] optneg(int version, int actions, int protocol, byte[]... extra) {
        ByteArrayOutputStream d = new ByteArrayOutputStream();
        d.writeBytes(ByteBuffer.allocate(12).putInt(version).putInt(actions).putInt(protocol).array());
        for (byte[] e : extra) {
            d.writeBytes(e);
        }
        return packet('O', d.toByteArray());
    }

    /** A reply packet: the command and its data parts (strings are NUL-terminated, Integers 4 bytes). */
    public static byte[] reply(char command, Object... parts) {
        ByteArrayOutputStream d = new ByteArrayOutputStream();
        for (Object o : parts) {
            if (o instanceof String s) {
                d.writeBytes(s.getBytes(StandardCharsets.UTF_8));
                d.write(0);
            } else if (o instanceof Integer i) {
                d.writeBytes(ByteBuffer.allocate(4).putInt(i).array());
            } else if (o instanceof byte[] b) {
                d.writeBytes(b);
            }
        }
        return packet(command, d.toByteArray());
    }

    public static byte[] packet(char command, byte[] data) {
        return ByteBuffer.allocate(5 + data.length).putInt(data.length + 1).put((byte) command).put(data).array();
    }

    @Override
    public void close() throws IOException {
        server.close();
        SocketChannel c = current;
        if (c != null) {
            c.close();
        }
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits (5 s at most) until a packet with {@code command} has arrived, for packets that get no reply. */
    public void await(char command) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (packets(command).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + command + " packet; received " + commands());
            }
            Thread.sleep(5);
        }
    }
}
