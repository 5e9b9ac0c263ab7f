package org.estafeta.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the private-peer harnesses (clamd, spamd, OpenDKIM, rspamd, slapd, PostgreSQL, MariaDB) share: a free
 * loopback port to give a peer, and stopping a peer with everything it started.
 */
public final class PeerProcesses {
    private PeerProcesses() {
    }

    /** A TCP port free on 127.0.0.1 at the time of asking. */
    public static int freePort() throws IOException {
        return freePort("127.0.0.1");
    }

    /** A TCP port free on {@code address} (a loopback address such as 127.0.0.5) at the time of asking. */
    public static int freePort(String address) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(address))) {
            return s.getLocalPort();
        }
    }

    /**
     * Waits until a peer just started accepts connections on 127.0.0.1:{@code port}. Throws an
     * {@link AssertionError} with {@code output}'s text when the process exits first, or when it is not listening
     * within {@code seconds} (the peer is then stopped with {@code stop}).
     */
    public static void awaitListening(Process process, int port, long seconds, String name,
            java.util.function.Supplier<String> output, Runnable stop) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + "; its output:\n"
                        + output.get());
            }
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        String out = output.get();
        stop.run();
        throw new AssertionError(name + " does not accept connections on 127.0.0.1:" + port + " within " + seconds
                + "s; its output:\n" + out);
    }

    /**
     * Stops a peer: SIGTERM, then SIGKILL when it has not exited within {@code seconds}; processes it started and
     * that are still alive afterwards are killed too. Never throws; keeps the caller's interrupt status.
     */
    public static void stop(Process process, long seconds) {
        ProcessHandle h = process.toHandle();
        List<ProcessHandle> children = h.descendants().toList();
        h.destroy();
        try {
            h.onExit().get(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            h.destroyForcibly();
        } catch (Exception e) {
            h.destroyForcibly();
        }
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }
}
