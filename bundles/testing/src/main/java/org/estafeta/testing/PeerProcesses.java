package org.estafeta.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the private-peer harnesses share: a free loopback port to give a peer, waiting until it listens, stopping it
 * with everything it started (or one a killed run left behind), and removing its directory.
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
     * A peer's log or output file as text (for failure messages): empty when it does not exist yet, a short note
     * instead of an exception when it cannot be read.
     */
    public static String read(java.nio.file.Path file) {
        try {
            return java.nio.file.Files.exists(file)
                    ? java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(" + file.getFileName() + " unreadable: " + e + ")";
        }
    }

    /** Deletes {@code dir} and everything below it; nothing when it does not exist. */
    public static void deleteTree(java.nio.file.Path dir) throws IOException {
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.walk(dir)) {
            for (java.nio.file.Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        }
    }

    /**
     * A peer left running by a killed test run: the process named in {@code pidFile} is handed to {@code stop} when its
     * command line names {@code config} (so an unrelated process that reused the pid is left alone).
     */
    public static void stopStale(java.nio.file.Path pidFile, java.nio.file.Path config,
            java.util.function.Consumer<ProcessHandle> stop) {
        if (!java.nio.file.Files.exists(pidFile)) {
            return;
        }
        try {
            long pid = Long.parseLong(java.nio.file.Files.readString(pidFile).strip());
            ProcessHandle.of(pid).filter(h -> h.info().commandLine().orElse("").contains(config.toString()))
                    .ifPresent(stop);
        } catch (IOException | NumberFormatException e) {
            // nothing to stop
        }
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
