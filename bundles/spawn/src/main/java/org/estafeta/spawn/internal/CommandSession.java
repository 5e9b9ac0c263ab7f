package org.estafeta.spawn.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;

/**
 * One client connection of a spawn entry: starts the command, relays the client's bytes to its standard input and
 * its standard output and error to the client, each direction on a thread of its own (blocking reads and writes),
 * and waits for it on the calling thread, as spawn(8) waits in spawn_command(). When the command exits the rest of
 * its output is sent and the connection is closed; when the client closes, the command sees end of file on its input
 * and decides itself when to end. At the time limit the command and every process it started are killed
 * ({@code <argv0>: process id N: command time limit exceeded}); an exit other than 0 is logged as
 * {@code command <argv0> exit status N} or {@code command <argv0> killed by signal N}.
 */
final class CommandSession {
    private static final int BUFFER = 16 * 1024;

    private final SpawnSettings settings;
    private final SocketChannel client;
    private final Logger log;
    private volatile Process process;
    private volatile boolean killed;

    CommandSession(SpawnSettings settings, SocketChannel client, Logger log) {
        this.settings = settings;
        this.client = client;
        this.log = log;
    }

    /** Runs the command to its end (or the time limit) and closes the connection. Blocks; never throws. */
    void run() {
        try (client) {
            ProcessBuilder pb = new ProcessBuilder(settings.command()).redirectErrorStream(true);
            pb.environment().clear();
            pb.environment().putAll(settings.environment());
            if (settings.directory() != null) {
                pb.directory(settings.directory().toFile());
            }
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                log.warn("spawn_command: execvp {}: {}", settings.argv0(), e.getMessage());
                return;
            }
            process = p;
            if (killed) {
                kill(p);
            }
            String name = "estafeta-spawn-" + p.pid();
            Thread toCommand = daemon(name + "-in", () -> clientToCommand(p.getOutputStream()));
            Thread toClient = daemon(name + "-out", () -> commandToClient(p.getInputStream()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.timeLimitSeconds());
            boolean timedOut = false;
            try {
                if (!p.waitFor(remaining(deadline), TimeUnit.NANOSECONDS)) {
                    timedOut = true;
                } else {
                    // the command has ended; processes it started may still hold its output open
                    toClient.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining(deadline))));
                    timedOut = toClient.isAlive();
                }
                if (timedOut && !killed) {
                    log.warn("{}: process id {}: command time limit exceeded", settings.argv0(), p.pid());
                }
                if (timedOut) {
                    kill(p);
                    toClient.join(TimeUnit.SECONDS.toMillis(5));
                }
            } catch (InterruptedException e) {
                kill(p);
                Thread.currentThread().interrupt();
            }
            report(p);
            closeQuietly(p.getOutputStream());
            closeQuietly(p.getInputStream());
            toCommand.interrupt();
        } catch (IOException e) {
            log.debug("spawn connection: {}", e.toString());
        }
    }

    /** Kills the command (and what it started) now, for a stopping instance; the session then ends as usual. */
    void abort() {
        killed = true;
        Process p = process;
        if (p != null) {
            kill(p);
        }
    }

    private void report(Process p) {
        if (p.isAlive()) {
            return; // could not be reaped; kill() already waited
        }
        int status = p.exitValue();
        if (status == 0) {
            return;
        }
        // The JDK reports a command ended by signal N as 128 + N, as a shell does (an exit status of 129-192
        // therefore reads as a signal, as in the pipe transport).
        if (status > 128 && status <= 128 + 64) {
            log.warn("command {} killed by signal {}", settings.argv0(), status - 128);
        } else {
            log.warn("command {} exit status {}", settings.argv0(), status);
        }
    }

    private void clientToCommand(OutputStream stdin) {
        ByteBuffer buf = ByteBuffer.allocate(BUFFER);
        try (stdin) {
            while (true) {
                buf.clear();
                int n = client.read(buf);
                if (n < 0) {
                    return; // end of file for the command
                }
                stdin.write(buf.array(), 0, n);
                stdin.flush();
            }
        } catch (IOException e) {
            // the client went away, or the command closed its input: the command's exit decides
        }
    }

    private void commandToClient(InputStream stdout) {
        byte[] b = new byte[BUFFER];
        boolean clientGone = false;
        try (stdout) {
            for (int n; (n = stdout.read(b)) >= 0;) {
                if (clientGone) {
                    continue; // keep the command from blocking on a full pipe
                }
                try {
                    ByteBuffer buf = ByteBuffer.wrap(b, 0, n);
                    while (buf.hasRemaining()) {
                        client.write(buf);
                    }
                } catch (IOException e) {
                    clientGone = true;
                }
            }
            if (!clientGone) {
                client.shutdownOutput();
            }
        } catch (IOException e) {
            // the stream was closed under us (the command was killed)
        }
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    /**
     * SIGKILL to the command and every process it started (Postfix kills the process group), then waits for it. The
     * command goes first, so that it cannot see (and report on the connection) the end of its children.
     */
    private static void kill(Process p) {
        List<ProcessHandle> started = p.descendants().toList();
        p.destroyForcibly();
        started.forEach(ProcessHandle::destroyForcibly);
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
