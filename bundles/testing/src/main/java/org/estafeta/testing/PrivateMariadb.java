package org.estafeta.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private MariaDB server (Debian's mariadb-server) in a temporary directory: {@code mariadb-install-db} into
 * {@code DIR/data}, then {@code mariadbd --user=mysql} with its socket at {@link #socket()} and TCP on a free
 * port of 127.0.0.1. {@code root} logs in over the socket as the operating system's root (unix_socket
 * authentication); tests create their own users with passwords for TCP.
 *
 * <p>One instance per test class; {@link #stop()} and {@link #start()} stop and restart the same server (same
 * data, port and socket). {@link #close()} stops it and deletes the directory. Without the binaries, or without
 * root, the calling test is skipped (failed with {@code ESTAFETA_REQUIRE_PEERS=1}).
 */
public final class PrivateMariadb implements AutoCloseable {
    public static final String MARIADBD = "/usr/sbin/mariadbd";
    public static final String INSTALL_DB = "/usr/bin/mariadb-install-db";

    private final Path dir;
    private final int port;
    private Process process;

    private PrivateMariadb(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Creates the data directory and starts the server. */
    public static PrivateMariadb create() throws IOException, InterruptedException {
        Peers.require(MARIADBD, "mariadb-server");
        Peers.require(INSTALL_DB, "mariadb-server");
        if (!Peers.isRoot()) {
            Peers.missing("a private MariaDB needs root (mariadbd --user=mysql)");
        }
        Path dir = Files.createTempDirectory("estafeta-mariadb");
        PrivateMariadb db = new PrivateMariadb(dir, PeerProcesses.freePort());
        try {
            ProcessRunner.run(List.of("chown", "mysql:mysql", dir.toString()), 30).ok();
            ProcessRunner.run(List.of(INSTALL_DB, "--no-defaults", "--datadir=" + db.data(), "--user=mysql",
                    "--skip-test-db", "--auth-root-authentication-method=socket"), 120).ok();
            db.start();
            return db;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            db.close();
            throw e;
        }
    }

    private Path data() {
        return dir.resolve("data");
    }

    public Path socket() {
        return dir.resolve("mysqld.sock");
    }

    public int port() {
        return port;
    }

    /** Starts (or restarts) the server and waits until it answers a ping. */
    public synchronized void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        process = new ProcessBuilder(MARIADBD, "--no-defaults", "--datadir=" + data(), "--user=mysql",
                "--socket=" + socket(), "--port=" + port, "--bind-address=127.0.0.1",
                "--pid-file=" + dir.resolve("mysqld.pid"), "--skip-log-bin", "--innodb-buffer-pool-size=16M",
                "--skip-name-resolve", "--log-error=" + dir.resolve("error.log"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("mariadbd.out").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            ProcessRunner.Result r = ProcessRunner.run(List.of("/usr/bin/mariadb-admin", "--no-defaults",
                    "--socket=" + socket(), "-u", "root", "ping"), 10);
            if (r.exit() == 0 && r.stdout().contains("alive")) {
                return;
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("MariaDB did not start:\n" + log());
            }
            Thread.sleep(50);
        }
    }

    /** Stops the server (SIGTERM: a normal shutdown that disconnects clients), keeping its data. */
    public synchronized void stop() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Runs SQL through the mariadb client as root over the socket; fails on the first error. */
    public String sql(String sql) throws IOException, InterruptedException {
        return ProcessRunner.run(List.of("/usr/bin/mariadb", "--no-defaults", "--socket=" + socket(), "-u", "root",
                "--batch", "--skip-column-names"), Map.of(), sql, 60).ok().stdout();
    }

    public String log() {
        try {
            return Files.readString(dir.resolve("error.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            process.destroyForcibly();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}
