package org.estafeta.table.sql;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.table.LookupResult;
import org.estafeta.testing.Peers;

/**
 * Debian's real {@code postmap -c DIR -q KEY TYPE:FILE} with a minimal private main.cf, the reference for the
 * differential tests. Its answer is mapped onto a {@link LookupResult}: a value, not found (exit 1, no fatal
 * message), or a temporary failure (a fatal message, as postmap reports a table that could not answer).
 */
final class PostfixPostmap {
    static final String POSTMAP = "/usr/sbin/postmap";

    /** One answer and what postmap printed on stderr. */
    record Answer(LookupResult result, String stderr) {
    }

    private final Path configDirectory;

    PostfixPostmap(Path dir) throws IOException {
        Peers.require(POSTMAP, "postfix");
        this.configDirectory = Files.createDirectories(dir.resolve("postfix"));
        Files.writeString(configDirectory.resolve("main.cf"), "compatibility_level = 3.6\n");
        Files.writeString(configDirectory.resolve("master.cf"), "");
    }

    /**
     * Writes a table configuration file dated an hour back: Postfix re-reads a file changed within the last
     * second until it has "cooled down", which would cost two seconds a query.
     */
    static Path writeConfig(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        return file;
    }

    Answer query(String key, String table) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(POSTMAP, "-c", configDirectory.toString(), "-q", key, table).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("postmap -q " + key + " " + table + " did not finish");
        }
        String stdout = new String(out, StandardCharsets.UTF_8);
        String stderr = new String(err, StandardCharsets.UTF_8);
        if (stderr.contains("postmap: fatal: ") || p.exitValue() > 1) {
            return new Answer(LookupResult.temporaryFailure(stderr.trim()), stderr);
        }
        if (p.exitValue() == 1) {
            return new Answer(LookupResult.notFound(), stderr);
        }
        return new Answer(LookupResult.found(stdout.substring(0, stdout.length() - 1)), stderr);
    }

    /** Whether two answers agree: equal, or both temporary failures (the reasons are worded differently). */
    static boolean agree(LookupResult postfix, LookupResult estafeta) {
        if (postfix instanceof LookupResult.TemporaryFailure) {
            return estafeta instanceof LookupResult.TemporaryFailure;
        }
        return postfix.equals(estafeta);
    }

    static List<String> lines(String stderr) {
        return stderr.lines().toList();
    }
}
