package org.estafeta.launcher;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client side of the control socket ({@code $queue_directory/private/control}, docs/internal-contracts.md):
 * one request line, then output lines and a last line {@code exit N}.
 */
final class ControlClient {
    /** The answer to one request: the output lines and the exit status the server gave. */
    record Answer(List<String> lines, int exit) {
    }

    private ControlClient() {
    }

    static boolean exists(Path socket) {
        return Files.exists(socket);
    }

    /**
     * Sends {@code request} (words separated by single spaces) and reads the answer. Throws when the socket
     * cannot be reached, the answer has no {@code exit N} line, or nothing arrives within {@code timeout}.
     */
    static Answer request(Path socket, String request, Duration timeout) throws IOException {
        if (request.indexOf('\n') >= 0 || request.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("a control request is one line");
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            AtomicBoolean timedOut = new AtomicBoolean();
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(timeout.toMillis());
                    timedOut.set(true);
                    ch.close();
                } catch (InterruptedException | IOException e) {
                    // done in time, or closing anyway
                }
            }, "control-client-timeout");
            watchdog.setDaemon(true);
            watchdog.start();
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                ByteBuffer out = ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8));
                while (out.hasRemaining()) {
                    ch.write(out);
                }
                ByteArrayOutputStream data = new ByteArrayOutputStream();
                ByteBuffer in = ByteBuffer.allocate(8192);
                while (ch.read(in) >= 0) {
                    in.flip();
                    data.write(in.array(), 0, in.limit());
                    in.clear();
                }
                return parse(data.toString(StandardCharsets.UTF_8), socket);
            } catch (IOException e) {
                if (timedOut.get()) {
                    throw new IOException("control socket " + socket + ": no answer within " + timeout.toSeconds()
                            + "s", e);
                }
                throw e;
            } finally {
                watchdog.interrupt();
            }
        }
    }

    static Answer parse(String text, Path socket) throws IOException {
        List<String> lines = new ArrayList<>(text.lines().toList());
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        if (lines.isEmpty()) {
            throw new IOException("control socket " + socket + ": empty answer");
        }
        String last = lines.remove(lines.size() - 1);
        if (!last.startsWith("exit ")) {
            throw new IOException("control socket " + socket + ": answer does not end with 'exit N': " + last);
        }
        try {
            return new Answer(List.copyOf(lines), Integer.parseInt(last.substring(5).trim()));
        } catch (NumberFormatException e) {
            throw new IOException("control socket " + socket + ": bad last line: " + last);
        }
    }
}
