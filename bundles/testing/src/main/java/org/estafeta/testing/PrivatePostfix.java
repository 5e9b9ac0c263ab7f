package org.estafeta.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private, real Postfix (Debian's package) started from a given main.cf and master.cf, for differential tests:
 * give it and Estafeta the same files, send both the same session, compare the replies.
 *
 * <p>The instance lives in {@code /var/tmp/estafeta-postfix/NAME} (config, spool, data, maillog), wiped at
 * start; a stale instance left there by a killed test run is stopped first. What the harness adds, and why:
 * <ul>
 * <li>to main.cf, <em>after</em> the test's text (so they win): {@code queue_directory}, {@code data_directory},
 * {@code maillog_file} (+ prefixes) under the instance directory: without them it would use the system's spool;</li>
 * <li>to main.cf, <em>before</em> the test's text and only when it does not set them: {@code alias_maps} and
 * {@code alias_database} pointing at an instance-local {@code aliases} file ({@code postmaster: root}), built with
 * postalias: it stands for the {@code /etc/aliases} every real system has, without which Postfix answers
 * {@code 451 4.3.0 Temporary lookup failure} to every local recipient; and {@code inet_protocols = ipv4};</li>
 * <li>to master.cf: Postfix's internal services (cleanup, qmgr, trivial-rewrite, proxymap, anvil, postlogd ...)
 * from Debian's stock master.cf with chroot {@code n}, unless the test's master.cf defines them. Estafeta has
 * no use for these lines, so tests give both the same smtpd line(s) and only Postfix gets the rest.</li>
 * </ul>
 * The instance's directory is listed in {@code alternate_config_directories} of the default
 * {@code /etc/postfix/main.cf} (created if absent; other lines are kept), as {@code postfix -c} requires for
 * non-root client tools. Starting Postfix needs root: without root, or without Postfix, the calling test is
 * skipped, or failed when {@code ESTAFETA_REQUIRE_PEERS=1} ({@link #availableOrFail()}).
 *
 * <p>{@link Builder#resolvConf(String)} runs the instance in a private mount namespace ({@code unshare -m}) whose
 * {@code /etc/resolv.conf} names the given server: glibc only speaks to port 53, so this is how Postfix is pointed
 * at a test DNS server (which must then listen on port 53 of some loopback address).
 */
public final class PrivatePostfix implements AutoCloseable {
    /** Where instances live; one directory per instance name. */
    public static final Path BASE = Path.of("/var/tmp/estafeta-postfix");
    private static final Path DEFAULT_MAIN_CF = Path.of("/etc/postfix/main.cf");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,40}");
    private static final Pattern INET = Pattern.compile("(?m)^(\\S+)\\s+inet\\s");

    /** Postfix's internal services from Debian 12's master.cf, chroot off (the private spool is no chroot jail). */
    static final List<String> INTERNAL_SERVICES = List.of(
            "pickup    unix  n       -       n       60      1       pickup",
            "cleanup   unix  n       -       n       -       0       cleanup",
            "qmgr      unix  n       -       n       300     1       qmgr",
            "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
            "rewrite   unix  -       -       n       -       -       trivial-rewrite",
            "bounce    unix  -       -       n       -       0       bounce",
            "defer     unix  -       -       n       -       0       bounce",
            "trace     unix  -       -       n       -       0       bounce",
            "verify    unix  -       -       n       -       1       verify",
            "flush     unix  n       -       n       1000?   0       flush",
            "proxymap  unix  -       -       n       -       -       proxymap",
            "proxywrite unix -       -       n       -       1       proxymap",
            "smtp      unix  -       -       n       -       -       smtp",
            "relay     unix  -       -       n       -       -       smtp",
            "showq     unix  n       -       n       -       -       showq",
            "error     unix  -       -       n       -       -       error",
            "retry     unix  -       -       n       -       -       error",
            "discard   unix  -       -       n       -       -       discard",
            "local     unix  -       n       n       -       -       local",
            "virtual   unix  -       n       n       -       -       virtual",
            "lmtp      unix  -       -       n       -       -       lmtp",
            "anvil     unix  -       -       n       -       1       anvil",
            "scache    unix  -       -       n       -       1       scache",
            "postlog   unix-dgram n  -       n       -       1       postlogd");

    private final Path dir;
    private final List<InetSocketAddress> listeners;
    private boolean stopped;

    private PrivatePostfix(Path dir, List<InetSocketAddress> listeners) {
        this.dir = dir;
        this.listeners = listeners;
    }

    /**
     * Whether a private Postfix can run here (the package is installed and we are root); when it cannot and
     * {@code ESTAFETA_REQUIRE_PEERS=1}, throws an {@link AssertionError}. Use as
     * {@code assumeTrue(PrivatePostfix.availableOrFail())}.
     */
    public static boolean availableOrFail() {
        String why = null;
        if (!Files.isExecutable(Path.of(Peers.POSTFIX))) {
            why = Peers.POSTFIX + " is missing (Debian package postfix; scripts/install-peers.sh installs it)";
        } else if (!Peers.isRoot()) {
            why = "a private Postfix needs root to start";
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

    /** The instance's config directory ({@code postfix -c DIR}). */
    public Path directory() {
        return dir;
    }

    /** The inet listeners of its master.cf. */
    public List<InetSocketAddress> listeners() {
        return listeners;
    }

    /** The first inet listener's port. */
    public int port() {
        return listeners.get(0).getPort();
    }

    /** Its maillog so far (for failure messages). */
    public String maillog() {
        return PeerProcesses.read(dir.resolve("maillog"));
    }

    /** {@code postfix -c DIR stop}, and waits until the master has gone. */
    @Override
    public void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            stopInstance(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void stopInstance(Path dir) throws IOException, InterruptedException {
        Path pidFile = dir.resolve("spool/pid/master.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        boolean stopped;
        try {
            ProcessRunner.run(List.of(Peers.POSTFIX, "-c", dir.toString(), "stop"), 30);
            stopped = true;
        } catch (AssertionError e) {
            // "postfix stop" hung (seen when the instance's postlogd blocks on its own socket): the instance is
            // killed below, so that the next test is not left with a stray Postfix
            stopped = false;
        }
        long pid = -1;
        try {
            pid = Long.parseLong(Files.readString(pidFile).trim());
        } catch (IOException | NumberFormatException e) {
            // already gone
        }
        if (pid > 0) {
            boolean clean = stopped;
            ProcessHandle.of(pid).ifPresent(h -> {
                try {
                    h.onExit().get(clean ? 30 : 0, TimeUnit.SECONDS);
                } catch (Exception e) {
                    h.descendants().forEach(ProcessHandle::destroyForcibly);
                    h.destroyForcibly();
                }
            });
        }
    }

    /** {@code name = value} and a newline, or nothing when {@code mainCf} sets {@code name} itself. */
    static String unlessSet(String mainCf, String name, String value) {
        return Pattern.compile("(?m)^" + Pattern.quote(name) + "\\s*=").matcher(mainCf).find() ? ""
                : name + " = " + value + "\n";
    }

    /** The files of an instance; {@link #start()} writes them and starts Postfix. */
    public static final class Builder {
        private final String name;
        private String mainCf = "";
        private String masterCf = "";
        private final Map<String, String> files = new LinkedHashMap<>();
        private final List<String> postmaps = new ArrayList<>();
        private String nameserver;

        private Builder(String name) {
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("instance name must match " + NAME + ": " + name);
            }
            this.name = name;
        }

        /** The test's main.cf (the same text Estafeta gets); {@code $dir} is not expanded, use {@link #directory()}. */
        public Builder mainCf(String text) {
            this.mainCf = text;
            return this;
        }

        /** The test's master.cf: its inet smtpd line(s), the same Estafeta gets. */
        public Builder masterCf(String text) {
            this.masterCf = text;
            return this;
        }

        /** A file in the instance directory (a table source, say). */
        public Builder file(String fileName, String content) {
            files.put(fileName, content);
            return this;
        }

        /** Runs {@code postmap -c DIR TYPE:DIR/fileName} before start ({@code hash:transport} → hash). */
        public Builder postmap(String type, String fileName) {
            postmaps.add(type + ":" + directory().resolve(fileName));
            return this;
        }

        /** Runs Postfix in a mount namespace whose /etc/resolv.conf says {@code nameserver ADDRESS} (port 53). */
        public Builder resolvConf(String address) {
            this.nameserver = address;
            return this;
        }

        /** Where the instance will live: {@code /var/tmp/estafeta-postfix/NAME}. */
        public Path directory() {
            return BASE.resolve(name);
        }

        /**
         * Writes the instance, starts it and returns once every inet listener of master.cf accepts connections.
         * Fails with the maillog when Postfix does not come up.
         */
        public PrivatePostfix start() throws IOException, InterruptedException {
            Path dir = directory();
            stopInstance(dir);
            PeerProcesses.deleteTree(dir);
            Files.createDirectories(dir.resolve("spool"));
            Files.createDirectories(dir.resolve("data"));
            allowAlternateConfigDirectory(dir);

            // only what the test's text does not set: a name set twice makes every Postfix process log "overriding
            // earlier entry" at start, and that burst into postlogd's own socket has been seen to hang an instance
            Files.writeString(dir.resolve("main.cf"), "# environment of a private instance (PrivatePostfix)\n"
                    + unlessSet(mainCf, "alias_maps", "hash:" + dir.resolve("aliases"))
                    + unlessSet(mainCf, "alias_database", "hash:" + dir.resolve("aliases"))
                    + unlessSet(mainCf, "inet_protocols", "ipv4")
                    + "\n# ---- the test's main.cf ----\n"
                    + mainCf + (mainCf.endsWith("\n") ? "" : "\n")
                    + "\n# ---- private instance (PrivatePostfix) ----\n"
                    + "queue_directory = " + dir.resolve("spool") + "\n"
                    + "data_directory = " + dir.resolve("data") + "\n"
                    + "maillog_file = " + dir.resolve("maillog") + "\n"
                    + "maillog_file_prefixes = " + dir + "\n", StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("master.cf"), withInternalServices(masterCf), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("aliases"), "postmaster: root\n", StandardCharsets.UTF_8);
            for (Map.Entry<String, String> f : files.entrySet()) {
                Files.writeString(dir.resolve(f.getKey()), f.getValue(), StandardCharsets.UTF_8);
            }
            if (nameserver != null) {
                Files.writeString(dir.resolve("resolv.conf"), "nameserver " + nameserver + "\noptions timeout:2 attempts:1\n");
            }
            ProcessRunner.run(List.of("chown", "-R", "postfix", dir.resolve("data").toString()), 30).ok();
            ProcessRunner.run(List.of("/usr/sbin/postalias", "-c", dir.toString(), "hash:" + dir.resolve("aliases")), 30).ok();
            for (String map : postmaps) {
                ProcessRunner.run(List.of("/usr/sbin/postmap", "-c", dir.toString(), map), 30).ok();
            }
            // creates the queue directories with Postfix's owners and modes (quiet about the config dir's owner)
            ProcessRunner.run(List.of(Peers.POSTFIX, "-c", dir.toString(), "set-permissions"), 60);

            List<String> startCmd = nameserver == null
                    ? List.of(Peers.POSTFIX, "-c", dir.toString(), "start")
                    : List.of("unshare", "-m", "sh", "-c", "mount --bind \"$1\" /etc/resolv.conf && exec \"$2\" -c \"$3\" start",
                            "sh", dir.resolve("resolv.conf").toString(), Peers.POSTFIX, dir.toString());
            ProcessRunner.Result started = ProcessRunner.run(startCmd, 60);
            PrivatePostfix pf = new PrivatePostfix(dir, inetListeners(masterCf));
            if (started.exit() != 0) {
                pf.close();
                throw new AssertionError("postfix did not start: " + started.output() + "\nmaillog:\n" + pf.maillog());
            }
            for (InetSocketAddress a : pf.listeners) {
                if (!accepts(a, 30)) {
                    String log = pf.maillog();
                    pf.close();
                    throw new AssertionError("postfix does not listen on " + a + " within 30s; maillog:\n" + log);
                }
            }
            return pf;
        }
    }

    /** The test's master.cf plus the internal services it does not define itself. */
    static String withInternalServices(String testMasterCf) {
        Set<String> defined = new HashSet<>();
        for (String line : testMasterCf.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (!line.isBlank() && !line.startsWith("#") && !Character.isWhitespace(line.charAt(0)) && f.length >= 2) {
                defined.add(f[0] + "/" + f[1]);
            }
        }
        StringBuilder sb = new StringBuilder("# ---- the test's master.cf ----\n").append(testMasterCf);
        if (!testMasterCf.endsWith("\n")) {
            sb.append('\n');
        }
        sb.append("# ---- Postfix's internal services (PrivatePostfix) ----\n");
        for (String s : INTERNAL_SERVICES) {
            String[] f = s.split("\\s+");
            if (!defined.contains(f[0] + "/" + f[1])) {
                sb.append(s).append('\n');
            }
        }
        return sb.toString();
    }

    static List<InetSocketAddress> inetListeners(String masterCf) {
        List<InetSocketAddress> out = new ArrayList<>();
        Matcher m = INET.matcher(masterCf);
        while (m.find()) {
            String service = m.group(1);
            int colon = service.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("give inet services as host:port for a private instance: " + service);
            }
            out.add(new InetSocketAddress(service.substring(0, colon), Integer.parseInt(service.substring(colon + 1))));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("master.cf has no inet service:\n" + masterCf);
        }
        return out;
    }

    static boolean accepts(InetSocketAddress a, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(a, 1000);
                return true;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        return false;
    }

    /** Adds {@code dir} to alternate_config_directories in /etc/postfix/main.cf, once, under a file lock. */
    static void allowAlternateConfigDirectory(Path dir) throws IOException {
        Files.createDirectories(DEFAULT_MAIN_CF.getParent());
        Path lockFile = BASE.resolve(".main.cf.lock");
        Files.createDirectories(BASE);
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = ch.lock()) {
            List<String> lines = Files.exists(DEFAULT_MAIN_CF)
                    ? new ArrayList<>(Files.readAllLines(DEFAULT_MAIN_CF, StandardCharsets.UTF_8))
                    : new ArrayList<>();
            boolean found = false;
            for (int i = 0; i < lines.size(); i++) {
                String l = lines.get(i);
                if (l.matches("^alternate_config_directories\\s*=.*")) {
                    found = true;
                    List<String> dirs = List.of(l.substring(l.indexOf('=') + 1).trim().split("[\\s,]+"));
                    if (dirs.contains(dir.toString())) {
                        return;
                    }
                    lines.set(i, l + " " + dir);
                }
            }
            if (!found) {
                lines.add("alternate_config_directories = " + dir);
            }
            Path tmp = DEFAULT_MAIN_CF.resolveSibling("main.cf.estafeta-tmp");
            Files.write(tmp, lines, StandardCharsets.UTF_8);
            Files.move(tmp, DEFAULT_MAIN_CF, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
    }

}
