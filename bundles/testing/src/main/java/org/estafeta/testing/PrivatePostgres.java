package org.estafeta.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private PostgreSQL 15 server (Debian's postgresql-15) in a temporary directory: {@code initdb} run as user
 * {@code postgres}, then {@code postgres -D DIR/data -k DIR -h 127.0.0.1 -p PORT}, with fsync off. Local
 * (UNIX-socket) connections are trusted; TCP connections need a password (scram-sha-256), so tests can check
 * a refused login. The superuser {@code postgres} gets the password {@link #PASSWORD}.
 *
 * <p>One instance per test class ({@code @BeforeAll}/{@code @AfterAll}); {@link #stop()} and {@link #start()}
 * stop and restart the same server (same data, same port) to test recovery. {@link #close()} stops it and deletes
 * the directory. Without the binaries, or without root, the calling test is skipped (failed with
 * {@code ESTAFETA_REQUIRE_PEERS=1}).
 */
public final class PrivatePostgres implements AutoCloseable {
    public static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    public static final String PASSWORD = "pg-secret";

    private final Path dir;
    private final int port;
    private Process process;

    private PrivatePostgres(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Creates the cluster and starts the server on a free port of 127.0.0.1. */
    public static PrivatePostgres create() throws IOException, InterruptedException {
        Peers.require(BIN.resolve("postgres").toString(), "postgresql-15");
        if (!Peers.isRoot()) {
            Peers.missing("a private PostgreSQL needs root (to run initdb as postgres)");
        }
        Path dir = Files.createTempDirectory("estafeta-pgsql");
        PrivatePostgres pg = new PrivatePostgres(dir, PeerProcesses.freePort());
        try {
            ProcessRunner.run(List.of("chown", "postgres:postgres", dir.toString()), 30).ok();
            Path pwfile = dir.resolve("pwfile");
            Files.writeString(pwfile, PASSWORD + "\n");
            ProcessRunner.run(List.of("chown", "postgres", pwfile.toString()), 30).ok();
            pg.asPostgres(List.of(BIN.resolve("initdb").toString(), "-D", pg.data().toString(), "-U", "postgres",
                    "--pwfile", pwfile.toString(), "--auth-local=trust", "--auth-host=scram-sha-256",
                    "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"), 120).ok();
            pg.start();
            return pg;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            pg.close();
            throw e;
        }
    }

    public Path directory() {
        return dir;
    }

    private Path data() {
        return dir.resolve("data");
    }

    /** The directory holding the server's socket {@code .s.PGSQL.PORT}. */
    public Path socketDirectory() {
        return dir;
    }

    public int port() {
        return port;
    }

    private ProcessRunner.Result asPostgres(List<String> command, int timeout)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=postgres", "--regid=postgres",
                "--init-groups", "--"));
        cmd.addAll(command);
        return ProcessRunner.run(cmd, timeout);
    }

    /** Starts (or restarts) the server and waits until it accepts queries. */
    public synchronized void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        process = new ProcessBuilder("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
                BIN.resolve("postgres").toString(), "-D", data().toString(), "-k", dir.toString(),
                "-h", "127.0.0.1", "-p", Integer.toString(port), "-c", "fsync=off", "-c", "logging_collector=off",
                "-c", "max_connections=40")
                .redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            ProcessRunner.Result r = ProcessRunner.run(List.of(BIN.resolve("pg_isready").toString(), "-q", "-h",
                    dir.toString(), "-p", Integer.toString(port)), 10);
            if (r.exit() == 0) {
                return;
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("PostgreSQL did not start:\n" + log());
            }
            Thread.sleep(50);
        }
    }

    /** Stops the server at once (fast shutdown: clients are disconnected), keeping its data. */
    public synchronized void stop() throws IOException, InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        ProcessRunner.run(List.of("kill", "-INT", Long.toString(process.pid())), 10);
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Runs SQL through psql as the superuser over the UNIX socket; fails on the first error. */
    public String sql(String database, String sql) throws IOException, InterruptedException {
        return ProcessRunner.run(List.of("/usr/bin/psql", "-X", "-q", "-A", "-t", "-h", dir.toString(),
                "-p", Integer.toString(port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1"),
                java.util.Map.of(), sql, 60).ok().stdout();
    }

    public String log() {
        try {
            return Files.readString(dir.resolve("postgres.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        try {
            stop();
        } catch (IOException | InterruptedException e) {
            if (process != null) {
                process.destroyForcibly();
            }
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}
