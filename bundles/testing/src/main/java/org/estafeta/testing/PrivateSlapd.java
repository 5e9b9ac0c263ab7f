package org.estafeta.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A private OpenLDAP server (Debian's slapd) for LDAP table tests: one mdb database with the given suffix, root
 * DN and password, the core, cosine and inetorgperson schemas, and the test's entries loaded with slapadd before
 * start. It listens on {@code ldap://ADDRESS:PORT/} only (a loopback address and a free port), never on the
 * system's sockets. Never the system's slapd service.
 *
 * <p>The instance lives in {@code /var/tmp/estafeta-slapd/NAME}: {@code slapd.conf}, {@code data.ldif},
 * {@code db/} (the mdb files), {@code slapd.pid}, {@code slapd.log} (its stderr at debug level 0). The directory
 * is wiped at start (a stale instance left there by a killed run is stopped first) and kept after
 * {@link #close()} for post-mortems. slapd runs in the foreground ({@code -d 0}) as a child of the test JVM;
 * {@link #stop()} and {@link #close()} stop it, {@link #restart()} starts it again on the same address, port and
 * data. {@code allow bind_v2} is set, so that clients using Postfix's default {@code version = 2} can bind.
 *
 * <p>Without the slapd package the calling test is skipped, or failed when {@code ESTAFETA_REQUIRE_PEERS=1}
 * ({@link #availableOrFail()}).
 */
public final class PrivateSlapd implements AutoCloseable {
    /** Where instances live; one directory per instance name. */
    public static final Path BASE = Path.of("/var/tmp/estafeta-slapd");
    public static final String SLAPD = "/usr/sbin/slapd";
    public static final String SLAPADD = "/usr/sbin/slapadd";
    public static final Path SCHEMA = Path.of("/etc/ldap/schema");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,40}");

    private final Path dir;
    private final String address;
    private final int port;
    private Process process;

    private PrivateSlapd(Path dir, String address, int port) {
        this.dir = dir;
        this.address = address;
        this.port = port;
    }

    /**
     * Whether a private slapd can run here (slapd, slapadd and the schema files are installed); when it cannot
     * and {@code ESTAFETA_REQUIRE_PEERS=1}, throws an {@link AssertionError}. Use as
     * {@code assumeTrue(PrivateSlapd.availableOrFail())}.
     */
    public static boolean availableOrFail() {
        String why = null;
        if (!Files.isExecutable(Path.of(SLAPD)) || !Files.isExecutable(Path.of(SLAPADD))) {
            why = SLAPD + " or " + SLAPADD + " is missing (Debian package slapd; scripts/install-peers.sh installs it)";
        } else if (!Files.exists(SCHEMA.resolve("inetorgperson.schema"))) {
            why = SCHEMA.resolve("inetorgperson.schema") + " is missing (Debian package slapd)";
        }
        if (why == null) {
            return true;
        }
        if (Peers.requirePeers()) {
            throw new AssertionError(why + " and " + Peers.REQUIRE_PEERS + "=1");
        }
        return false;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** {@code ldap://ADDRESS:PORT} (what server_host may name). */
    public String url() {
        return "ldap://" + address + ":" + port;
    }

    public String address() {
        return address;
    }

    public int port() {
        return port;
    }

    public Path directory() {
        return dir;
    }

    /** Its log so far (for failure messages). */
    public String log() {
        return PeerProcesses.read(dir.resolve("slapd.log"));
    }

    /** Whether slapd is running now. */
    public boolean running() {
        return process != null && process.isAlive();
    }

    /** Stops slapd (SIGTERM, SIGKILL after 20 s) and waits until it has gone and the port is closed. */
    public void stop() {
        if (process == null) {
            return;
        }
        stopProcess(process.toHandle());
        process = null;
    }

    /** Starts slapd again on the same address, port and database; returns once it accepts connections. */
    public void restart() throws IOException, InterruptedException {
        if (running()) {
            throw new IllegalStateException("slapd is running");
        }
        launch();
    }

    @Override
    public void close() {
        stop();
    }

    private void launch() throws IOException, InterruptedException {
        Path log = dir.resolve("slapd.log");
        process = new ProcessBuilder(SLAPD, "-f", dir.resolve("slapd.conf").toString(),
                "-h", "ldap://" + address + ":" + port + "/", "-d", "0")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        InetSocketAddress a = new InetSocketAddress(address, port);
        if (!PrivatePostfix.accepts(a, 30) || !process.isAlive()) {
            String text = log();
            stop();
            throw new AssertionError("slapd does not listen on " + a + " within 30s; its log:\n" + text);
        }
    }

    private static void stopProcess(ProcessHandle h) {
        h.destroy();
        try {
            h.onExit().get(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            h.destroyForcibly();
        } catch (Exception e) {
            h.destroyForcibly();
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // nothing more to do
            }
        }
    }

    /** The instance's settings; {@link #start()} writes them, loads the entries and starts slapd. */
    public static final class Builder {
        private final String name;
        private String address = "127.0.0.1";
        private int port;
        private String suffix = "dc=example,dc=com";
        private String rootDn = "cn=admin,dc=example,dc=com";
        private String rootPw = "secret";
        private String ldif = "";
        private String extraConfig = "";

        private Builder(String name) {
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("instance name must match " + NAME + ": " + name);
            }
            this.name = name;
        }

        /** The loopback address to listen on (default 127.0.0.1). */
        public Builder address(String address) {
            this.address = address;
            return this;
        }

        /** The port (default: a free one). */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The database suffix (default {@code dc=example,dc=com}). */
        public Builder suffix(String suffix) {
            this.suffix = suffix;
            return this;
        }

        /** The rootdn and its rootpw (plain text; default {@code cn=admin,dc=example,dc=com} / {@code secret}). */
        public Builder root(String dn, String password) {
            this.rootDn = dn;
            this.rootPw = password;
            return this;
        }

        /** The entries, as LDIF, loaded with slapadd before start (the suffix entry included). */
        public Builder ldif(String text) {
            this.ldif = text;
            return this;
        }

        /** More slapd.conf text in the database section (ACLs, say). */
        public Builder config(String text) {
            this.extraConfig = text;
            return this;
        }

        /** Where the instance will live: {@code /var/tmp/estafeta-slapd/NAME}. */
        public Path directory() {
            return BASE.resolve(name);
        }

        /** Writes the instance, loads the entries, starts slapd and returns once it accepts connections. */
        public PrivateSlapd start() throws IOException, InterruptedException {
            Path dir = directory();
            PeerProcesses.stopStale(dir.resolve("slapd.pid"), dir.resolve("slapd.conf"),
                    PrivateSlapd::stopProcess);
            PeerProcesses.deleteTree(dir);
            Files.createDirectories(dir.resolve("db"));
            int p = port != 0 ? port : PeerProcesses.freePort(address);
            Path conf = dir.resolve("slapd.conf");
            Files.writeString(conf, String.join("\n",
                    "# private instance (PrivateSlapd) " + name,
                    "include " + SCHEMA.resolve("core.schema"),
                    "include " + SCHEMA.resolve("cosine.schema"),
                    "include " + SCHEMA.resolve("inetorgperson.schema"),
                    "pidfile " + dir.resolve("slapd.pid"),
                    "argsfile " + dir.resolve("slapd.args"),
                    "modulepath /usr/lib/ldap",
                    "moduleload back_mdb",
                    "allow bind_v2",
                    "database mdb",
                    "maxsize 10485760",
                    "suffix \"" + suffix + "\"",
                    "rootdn \"" + rootDn + "\"",
                    "rootpw " + rootPw,
                    "directory " + dir.resolve("db"),
                    extraConfig,
                    ""), StandardCharsets.UTF_8);
            Path data = dir.resolve("data.ldif");
            Files.writeString(data, ldif, StandardCharsets.UTF_8);
            if (!ldif.isBlank()) {
                ProcessRunner.run(List.of(SLAPADD, "-f", conf.toString(), "-l", data.toString()), 60).ok();
            }
            PrivateSlapd slapd = new PrivateSlapd(dir, address, p);
            slapd.launch();
            return slapd;
        }
    }

}
