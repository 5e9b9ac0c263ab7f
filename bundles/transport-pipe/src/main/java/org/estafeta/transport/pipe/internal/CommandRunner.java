package org.estafeta.transport.pipe.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Runs one command: writes the message to its standard input on one thread, keeps the first {@link #OUTPUT_LIMIT}
 * bytes of its standard output and error on another, and kills it (and its children) when the time limit is
 * reached, as Postfix's pipe_command() does.
 */
final class CommandRunner {
    /** How much command output is kept for the reply: Postfix's VSTREAM_BUFSIZE. */
    static final int OUTPUT_LIMIT = 4096;

    /** Writes the message to the command; IOExceptions other than {@link MessageCopier.ReadException} mean the command went away. */
    interface Feeder {
        void feed(OutputStream stdin) throws IOException;
    }

    /**
     * What became of the command.
     *
     * @param timedOut the time limit was reached and the command was killed
     * @param exitValue the exit status; 128 + N when signal N ended it (how the JDK reports a signal)
     * @param output the first bytes of its output, made one printable line as Postfix does
     * @param readError an error reading the message, or null
     */
    record Outcome(boolean timedOut, int exitValue, String output, IOException readError) {
    }

    private CommandRunner() {
    }

    static Outcome run(ProcessBuilder builder, Feeder feeder, long timeLimitMillis, String threadName) throws IOException {
        builder.redirectErrorStream(true);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeLimitMillis);
        Process process = builder.start();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = daemon(threadName + "-out", () -> drain(process.getInputStream(), output));
        IOException[] readError = new IOException[1];
        Thread writer = daemon(threadName + "-in", () -> {
            try (OutputStream stdin = process.getOutputStream()) {
                feeder.feed(stdin);
            } catch (MessageCopier.ReadException e) {
                readError[0] = e;
            } catch (IOException e) {
                // the command closed its input (EPIPE): its exit status decides, as in Postfix
            }
        });
        boolean timedOut = false;
        try {
            if (!process.waitFor(remaining(deadline), TimeUnit.NANOSECONDS)) {
                timedOut = true;
                kill(process);
            }
            // the command has ended; its children may still hold the output open until the time limit
            reader.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining(deadline))));
            if (reader.isAlive()) {
                timedOut = true;
                kill(process);
            }
            writer.join(Math.max(1000, TimeUnit.NANOSECONDS.toMillis(remaining(deadline))));
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the command", e);
        }
        byte[] bytes;
        synchronized (output) {
            bytes = output.toByteArray();
        }
        IOException error = writer.isAlive() ? null : readError[0];
        return new Outcome(timedOut, process.exitValue(), printable(bytes), error);
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    /** SIGKILL to the command and every process it started (Postfix kills the process group), then waits for it. */
    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void drain(InputStream in, ByteArrayOutputStream output) {
        byte[] b = new byte[8192];
        try (in) {
            for (int n; (n = in.read(b)) >= 0;) {
                synchronized (output) {
                    int room = OUTPUT_LIMIT - output.size();
                    if (room > 0) {
                        output.write(b, 0, Math.min(room, n));
                    }
                }
            }
        } catch (IOException e) {
            // the stream was closed under us; what was read stays
        }
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Tabs and newlines become spaces, other control characters and undecodable bytes an underscore. */
    static String printable(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\t' || c == '\n') {
                sb.append(' ');
            } else if (Character.isISOControl(c) || c == '\uFFFD') {
                sb.append('_');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
