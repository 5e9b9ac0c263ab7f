package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Postfix's smtp-sink on 127.0.0.1:port, run as nobody, keeping each message it receives in its own file (with its
 * envelope as {@code X-Mail-Args}/{@code X-Rcpt-Args} lines); {@link #start} returns once it listens.
 */
final class SmtpSink implements AutoCloseable {
    final Path dir;
    private final Process process;

    private SmtpSink(Path dir, Process process) {
        this.dir = dir;
        this.process = process;
    }

    static SmtpSink start(Path parent, String name, int port) throws Exception {
        requirePeer("/usr/sbin/smtp-sink", "postfix");
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dir = Files.createDirectories(parent.resolve(name));
        new ProcessBuilder("chown", "nobody", dir.toString()).inheritIO().start().waitFor();
        Process p = new ProcessBuilder("/usr/sbin/smtp-sink", "-u", "nobody", "-d", dir + "/%M.",
                "127.0.0.1:" + port, "64").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        SmtpSink s = new SmtpSink(dir, p);
        try {
            EstafetaTarget.awaitListener(port);
        } catch (AssertionError | InterruptedException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** The envelope recipients of each message received, one list per message (in no particular order). */
    List<List<String>> deliveries() {
        List<List<String>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                List<String> rcpts = new ArrayList<>();
                for (String l : Files.readAllLines(f, StandardCharsets.ISO_8859_1)) {
                    if (l.startsWith("X-Rcpt-Args: <")) {
                        rcpts.add(l.substring(14, l.indexOf('>')));
                    } else if (!l.startsWith("X-")) {
                        break;
                    }
                }
                out.add(rcpts);
            }
        } catch (IOException e) {
            // a file being written: seen at the next look
        }
        return out;
    }

    /** All recipients of all messages received, sorted. */
    List<String> recipients() {
        return deliveries().stream().flatMap(List::stream).sorted().toList();
    }

    /** The message received for {@code rcpt}, or an empty string. */
    String messageFor(String rcpt) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String text = Files.readString(f, StandardCharsets.ISO_8859_1);
                if (text.contains("X-Rcpt-Args: <" + rcpt + ">")) {
                    return text;
                }
            }
        }
        return "";
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
