package org.estafeta.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A private, real Rspamd (Debian's {@code rspamd}) whose only worker is the proxy in milter mode on
 * {@code 127.0.0.1:PORT} (a free port), scanning the messages itself ({@code self_scan}); no normal, controller or
 * fuzzy worker, so none of the default ports 11332-11335 is taken. Never the system's rspamd service.
 *
 * <p>The harness writes a top-level {@code DIR/rspamd.conf} that includes the system's rules ({@code /etc/rspamd},
 * {@code $CONFDIR}) and points {@code $LOCAL_CONFDIR}, {@code $DBDIR}, {@code $RUNDIR} and {@code $LOGDIR} into
 * {@code DIR} ({@code --var}), so the test's settings go to {@code DIR/local.d} and {@code DIR/override.d}:
 * <ul>
 * <li>{@code override.d/worker-proxy.inc}: {@code milter = yes}, the bind socket and {@code upstream "local"
 *     { default = yes; self_scan = yes; }};</li>
 * <li>{@code local.d/milter_headers.conf}: {@code use = [x-spamd-result, x-rspamd-server, x-rspamd-queue-id,
 *     authentication-results]} with {@code skip_local = false} (the test's clients are on loopback);</li>
 * <li>{@code local.d/options.inc}: a short list of top-level domains ({@code url_tld}) instead of the public
 *     suffix list, which rspamd otherwise compiles for about ten seconds at every start.</li>
 * </ul>
 * No redis: the modules that need one (bayes, greylist, ratelimit, history...) disable themselves with a warning.
 * The maps Debian's rules fetch from maps.rspamd.com are tried and, without network, fail with a warning.
 * GTUBE ({@link #GTUBE}) gets rspamd's reject action, which the proxy sends as a milter reply code with the
 * reason: {@code 554 5.7.1 Gtube pattern}.
 *
 * <p>rspamd runs in the foreground ({@code -f}) as a child of the test JVM and logs to {@code DIR/rspamd.log}; as
 * root it runs with {@code --insecure} (its workers stay root, so the test's private directory needs no other
 * permissions). Readiness is the milter port accepting a connection (60 s at most). {@link #stop} sends SIGTERM
 * to the main process, which stops its workers; SIGKILL after 20 s.
 */
public final class PrivateRspamd implements AutoCloseable {
    public static final String RSPAMD = "/usr/bin/rspamd";
    /** The system's configuration ({@code $CONFDIR}): the rules, modules and defaults Debian ships. */
    public static final Path CONFDIR = Path.of("/etc/rspamd");
    /** GTUBE, the spam test string: rspamd's reject action, whatever the score. */
    public static final String GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

    private final Path dir;
    private final int port;
    private Process process;

    private PrivateRspamd(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Writes the configuration under {@code dir}, starts rspamd and returns once its milter port accepts. */
    public static PrivateRspamd start(Path dir) throws IOException, InterruptedException {
        Peers.require(RSPAMD, "rspamd");
        if (!Files.isRegularFile(CONFDIR.resolve("common.conf"))) {
            Peers.missing("no rspamd configuration in " + CONFDIR + " (Debian package rspamd)");
        }
        int port = PeerProcesses.freePort();
        Path local = Files.createDirectories(dir.resolve("local.d"));
        Path override = Files.createDirectories(dir.resolve("override.d"));
        Files.createDirectories(dir.resolve("db"));
        Files.createDirectories(dir.resolve("run"));
        write(dir.resolve("rspamd.conf"),
                "# private instance (PrivateRspamd): the system's rules, only the proxy worker, in milter mode",
                ".include \"$CONFDIR/common.conf\"",
                "options {",
                "    pidfile = \"$RUNDIR/rspamd.pid\";",
                "    .include \"$CONFDIR/options.inc\"",
                "    .include(try=true; priority=1,duplicate=merge) \"$LOCAL_CONFDIR/local.d/options.inc\"",
                "    .include(try=true; priority=10) \"$LOCAL_CONFDIR/override.d/options.inc\"",
                "}",
                "logging {",
                "    type = \"file\";",
                "    filename = \"$LOGDIR/rspamd.log\";",
                "    .include \"$CONFDIR/logging.inc\"",
                "    .include(try=true; priority=1,duplicate=merge) \"$LOCAL_CONFDIR/local.d/logging.inc\"",
                "    .include(try=true; priority=10) \"$LOCAL_CONFDIR/override.d/logging.inc\"",
                "}",
                "worker \"rspamd_proxy\" {",
                "    .include \"$CONFDIR/worker-proxy.inc\"",
                "    .include(try=true; priority=1,duplicate=merge) \"$LOCAL_CONFDIR/local.d/worker-proxy.inc\"",
                "    .include(try=true; priority=10) \"$LOCAL_CONFDIR/override.d/worker-proxy.inc\"",
                "}");
        write(override.resolve("worker-proxy.inc"),
                "milter = yes;",
                "bind_socket = \"127.0.0.1:" + port + "\";",
                "count = 1;",
                "timeout = 120s;",
                "upstream \"local\" {",
                "    default = yes;",
                "    self_scan = yes;",
                "}");
        write(local.resolve("milter_headers.conf"),
                "use = [\"x-spamd-result\", \"x-rspamd-server\", \"x-rspamd-queue-id\", \"authentication-results\"];",
                "skip_local = false;",
                "skip_authenticated = false;");
        Path tld = dir.resolve("tld.dat");
        write(tld, "// a few public suffixes (PrivateRspamd): compiling the whole list takes ~10 s", "com", "net",
                "org", "test", "example");
        write(local.resolve("options.inc"), "url_tld = \"" + tld + "\";");
        PrivateRspamd r = new PrivateRspamd(dir, port);
        r.start();
        return r;
    }

    private static void write(Path file, String... lines) throws IOException {
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.US_ASCII);
    }

    public int port() {
        return port;
    }

    /** {@code inet:127.0.0.1:PORT}, as smtpd_milters names it. */
    public String milterAddress() {
        return "inet:127.0.0.1:" + port;
    }

    /** Starts rspamd and waits (60 s at most) until its milter port accepts connections. */
    public void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of(RSPAMD, "-f", "-c", dir.resolve("rspamd.conf").toString(),
                "--var=CONFDIR=" + CONFDIR, "--var=LOCAL_CONFDIR=" + dir, "--var=DBDIR=" + dir.resolve("db"),
                "--var=RUNDIR=" + dir.resolve("run"), "--var=LOGDIR=" + dir));
        if (Peers.isRoot()) {
            cmd.add("--insecure");
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("rspamd.out").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        PeerProcesses.awaitListening(process, port, 60, "rspamd", () -> output() + "\n--- its log:\n" + log(), this::stop);
    }

    /** Stops rspamd (SIGTERM to the main process, which stops its workers; SIGKILL after 20 s). */
    public void stop() {
        if (process == null) {
            return;
        }
        PeerProcesses.stop(process, 20);
        process = null;
    }

    @Override
    public void close() {
        stop();
    }

    /** rspamd's log so far (for failure messages). */
    public String log() {
        return PeerProcesses.read(dir.resolve("rspamd.log"));
    }

    /** What rspamd wrote to stdout/stderr (before its log file was open). */
    private String output() {
        return PeerProcesses.read(dir.resolve("rspamd.out"));
    }

}
