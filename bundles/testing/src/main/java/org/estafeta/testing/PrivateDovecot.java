package org.estafeta.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A private, real Dovecot (Debian's {@code dovecot-core} and {@code dovecot-lmtpd}) with an LMTP listener on a
 * loopback port and a passwd-file user database, to receive mail over LMTP and to read Maildirs as a mail client
 * would ({@code doveadm fetch}, {@code doveadm search}). Never the system's dovecot service.
 *
 * <p>The instance lives in {@code /var/tmp/estafeta-dovecot/NAME}: {@code dovecot.conf}, {@code users} (the
 * passwd-file), {@code run/} (base_dir: master.pid and the sockets), {@code state/}, {@code dovecot.log}, and
 * {@code mail/} owned by the instance's uid and gid, where each user's Maildir is {@code mail/USER}
 * ({@code mail_location = maildir:DIR/mail/%u}, users are full addresses as LMTP's RCPT TO names them). The
 * directory is wiped at start (a stale instance left there by a killed run is stopped first) and kept after
 * {@link #close()} for post-mortems. Dovecot runs in the foreground ({@code dovecot -F -c DIR/dovecot.conf}) as a
 * child of the test JVM; close() stops it. Only {@code lmtp} is in {@code protocols}: no IMAP/POP3 listener opens.
 * LMTP may also listen on UNIX-domain sockets ({@link Builder#lmtpUnixSocket}), or only there
 * ({@code lmtpPort(0)}).
 *
 * <p>Starting Dovecot needs root (it switches to each user's uid): without root, or without the packages, the
 * calling test is skipped, or failed when {@code ESTAFETA_REQUIRE_PEERS=1} ({@link #availableOrFail()}).
 */
public final class PrivateDovecot implements AutoCloseable {
    /** Where instances live; one directory per instance name. */
    public static final Path BASE = Path.of("/var/tmp/estafeta-dovecot");
    public static final String DOVECOT = "/usr/sbin/dovecot";
    public static final String DOVEADM = "/usr/bin/doveadm";
    /** The LMTP server binary (package dovecot-lmtpd); dovecot-core alone has none. */
    public static final String LMTP = "/usr/lib/dovecot/lmtp";
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,40}");

    private final Path dir;
    private final Process process;
    private final int lmtpPort;
    private final List<Path> lmtpSockets;
    private boolean stopped;

    private PrivateDovecot(Path dir, Process process, int lmtpPort, List<Path> lmtpSockets) {
        this.dir = dir;
        this.process = process;
        this.lmtpPort = lmtpPort;
        this.lmtpSockets = lmtpSockets;
    }

    /**
     * Whether a private Dovecot can run here (dovecot, its lmtp server and doveadm are installed and we are root);
     * when it cannot and {@code ESTAFETA_REQUIRE_PEERS=1}, throws an {@link AssertionError}. Use as
     * {@code assumeTrue(PrivateDovecot.availableOrFail())}.
     */
    public static boolean availableOrFail() {
        String why = null;
        if (!Files.isExecutable(Path.of(DOVECOT)) || !Files.isExecutable(Path.of(DOVEADM))) {
            why = DOVECOT + " or " + DOVEADM + " is missing (Debian package dovecot-core; scripts/install-peers.sh installs it)";
        } else if (!Files.isExecutable(Path.of(LMTP))) {
            why = LMTP + " is missing (Debian package dovecot-lmtpd; scripts/install-peers.sh installs it)";
        } else if (!Peers.isRoot()) {
            why = "a private Dovecot needs root to start";
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

    /** The instance directory. */
    public Path directory() {
        return dir;
    }

    /** Its configuration file ({@code doveadm -c FILE}). */
    public Path config() {
        return dir.resolve("dovecot.conf");
    }

    /** Where the users' Maildirs are: {@code mail/USER} (what {@code virtual_mailbox_base} may name). */
    public Path mailDirectory() {
        return dir.resolve("mail");
    }

    public int lmtpPort() {
        return lmtpPort;
    }

    /** The UNIX-domain sockets LMTP listens on ({@link Builder#lmtpUnixSocket}), in the order given. */
    public List<Path> lmtpSockets() {
        return lmtpSockets;
    }

    /** Its log so far (for failure messages). */
    public String log() {
        try {
            StringBuilder sb = new StringBuilder();
            for (String f : List.of("dovecot.log", "dovecot.out")) {
                Path p = dir.resolve(f);
                if (Files.exists(p)) {
                    sb.append(Files.readString(p, StandardCharsets.UTF_8));
                }
            }
            return sb.toString();
        } catch (IOException e) {
            return "(dovecot log unreadable: " + e + ")";
        }
    }

    /** {@code doveadm -c CONFIG ARGS...} (mail commands take {@code -u USER}); fails when it cannot run. */
    public ProcessRunner.Result doveadm(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(DOVEADM, "-c", config().toString()));
        cmd.addAll(List.of(args));
        return ProcessRunner.run(cmd, 30);
    }

    /** {@code doveadm fetch -u USER FIELDS SEARCH...}: what a mail client gets; fails on a non-zero exit. */
    public String fetch(String user, String fields, String... search) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("fetch", "-u", user, fields));
        args.addAll(search.length == 0 ? List.of("ALL") : List.of(search));
        return doveadm(args.toArray(String[]::new)).ok().stdout();
    }

    /** {@code doveadm search -u USER SEARCH...}: one line (mailbox GUID and UID) per matching message. */
    public List<String> search(String user, String... search) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("search", "-u", user));
        args.addAll(List.of(search));
        String out = doveadm(args.toArray(String[]::new)).ok().stdout();
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    /** Stops Dovecot (SIGTERM to its master, SIGKILL after 20 s) and waits until it has gone. */
    @Override
    public void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        stopProcess(process.toHandle());
    }

    private static void stopProcess(ProcessHandle h) {
        List<ProcessHandle> children = h.descendants().toList();
        h.destroy();
        try {
            h.onExit().get(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            h.destroyForcibly();
        } catch (Exception e) {
            h.destroyForcibly();
        }
        // the master stops its children on SIGTERM; a child left behind (master killed) goes too
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    /** The instance's settings; {@link #start()} writes them and starts Dovecot. */
    public static final class Builder {
        private final String name;
        private int lmtpPort = 24;
        private int uid = 65534;
        private int gid = 65534;
        private final Map<String, String> users = new LinkedHashMap<>();
        private final List<Path> lmtpSockets = new ArrayList<>();
        private String extraConfig = "";

        private Builder(String name) {
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("instance name must match " + NAME + ": " + name);
            }
            this.name = name;
        }

        /** LMTP's inet listener on 127.0.0.1:PORT; 0: none (then name at least one {@link #lmtpUnixSocket}). */
        public Builder lmtpPort(int port) {
            this.lmtpPort = port;
            return this;
        }

        /**
         * One more LMTP listener, on a UNIX-domain socket at this absolute path (mode 0666, so that a client that
         * is not root may connect), as Postfix's {@code lmtp:unix:private/dovecot-lmtp} setups have it. Its
         * directory is created when missing; a stale socket file there is removed at start.
         */
        public Builder lmtpUnixSocket(Path socket) {
            if (!socket.isAbsolute()) {
                throw new IllegalArgumentException("an LMTP socket path must be absolute: " + socket);
            }
            lmtpSockets.add(socket);
            return this;
        }

        /** The uid and gid every user's mail belongs to (default 65534, nobody:nogroup). */
        public Builder owner(int uid, int gid) {
            this.uid = uid;
            this.gid = gid;
            return this;
        }

        /** A user of the passwd-file (a full address: LMTP looks up RCPT TO's address), with a password. */
        public Builder user(String user, String password) {
            if (user.contains(":") || password.contains(":")) {
                throw new IllegalArgumentException("no ':' in passwd-file fields: " + user);
            }
            users.put(user, password);
            return this;
        }

        /** More dovecot.conf text, after the harness's settings (later settings win). */
        public Builder config(String text) {
            this.extraConfig = text;
            return this;
        }

        /** Where the instance will live: {@code /var/tmp/estafeta-dovecot/NAME}. */
        public Path directory() {
            return BASE.resolve(name);
        }

        /** Writes the instance, starts Dovecot and returns once LMTP accepts connections; fails with its log. */
        public PrivateDovecot start() throws IOException, InterruptedException {
            Path dir = directory();
            PeerProcesses.stopStale(dir.resolve("run/master.pid"), dir.resolve("dovecot.conf"),
                    PrivateDovecot::stopProcess);
            PeerProcesses.deleteTree(dir);
            Files.createDirectories(dir.resolve("state"));
            Path mail = Files.createDirectories(dir.resolve("mail"));
            ProcessRunner.run(List.of("chown", uid + ":" + gid, mail.toString()), 30).ok();

            StringBuilder passwd = new StringBuilder();
            for (Map.Entry<String, String> u : users.entrySet()) {
                // user:password:uid:gid:gecos:home:shell:extra fields
                passwd.append(u.getKey()).append(":{PLAIN}").append(u.getValue()).append(':').append(uid).append(':')
                        .append(gid).append("::").append(mail.resolve(u.getKey())).append("::\n");
            }
            Files.writeString(dir.resolve("users"), passwd.toString(), StandardCharsets.UTF_8);
            Path conf = dir.resolve("dovecot.conf");
            Files.writeString(conf, String.join("\n",
                    "# private instance (PrivateDovecot) " + name,
                    "instance_name = estafeta-" + name,
                    "base_dir = " + dir.resolve("run"),
                    "state_dir = " + dir.resolve("state"),
                    "log_path = " + dir.resolve("dovecot.log"),
                    "info_log_path = " + dir.resolve("dovecot.log"),
                    "protocols = lmtp",
                    "listen = 127.0.0.1",
                    "ssl = no",
                    "hostname = " + name + ".dovecot.test",
                    "postmaster_address = postmaster@" + name + ".dovecot.test",
                    "disable_plaintext_auth = no",
                    "auth_mechanisms = plain",
                    "auth_failure_delay = 0",
                    "first_valid_uid = 1",
                    "mail_location = maildir:" + mail + "/%u",
                    "namespace inbox {",
                    "  inbox = yes",
                    "  separator = /",
                    "}",
                    "passdb {",
                    "  driver = passwd-file",
                    "  args = scheme=PLAIN " + dir.resolve("users"),
                    "}",
                    "userdb {",
                    "  driver = passwd-file",
                    "  args = " + dir.resolve("users"),
                    "}",
                    lmtpService(),
                    "",
                    extraConfig,
                    ""), StandardCharsets.UTF_8);

            Process p = new ProcessBuilder(DOVECOT, "-F", "-c", conf.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("dovecot.out").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            PrivateDovecot dc = new PrivateDovecot(dir, p, lmtpPort, List.copyOf(lmtpSockets));
            if (lmtpPort > 0) {
                InetSocketAddress lmtp = new InetSocketAddress("127.0.0.1", lmtpPort);
                if (!PrivatePostfix.accepts(lmtp, 30) || !p.isAlive()) {
                    String log = dc.log();
                    dc.close();
                    throw new AssertionError("dovecot does not listen on " + lmtp + " within 30s; its log:\n" + log);
                }
            }
            for (Path socket : lmtpSockets) {
                if (!acceptsUnix(socket, 30) || !p.isAlive()) {
                    String log = dc.log();
                    dc.close();
                    throw new AssertionError("dovecot does not listen on " + socket + " within 30s; its log:\n" + log);
                }
            }
            return dc;
        }

        /** The {@code service lmtp} block: the inet listener (unless port 0) and the UNIX-domain ones. */
        private String lmtpService() throws IOException {
            if (lmtpPort <= 0 && lmtpSockets.isEmpty()) {
                throw new IllegalStateException("LMTP needs a port or a UNIX-domain socket");
            }
            List<String> lines = new ArrayList<>(List.of("service lmtp {"));
            if (lmtpPort > 0) {
                lines.addAll(List.of(
                        "  inet_listener lmtp {",
                        "    address = 127.0.0.1",
                        "    port = " + lmtpPort,
                        "  }"));
            }
            for (Path socket : lmtpSockets) {
                Files.createDirectories(socket.getParent());
                Files.deleteIfExists(socket);
                lines.addAll(List.of(
                        "  unix_listener " + socket + " {",
                        "    mode = 0666",
                        "  }"));
            }
            lines.add("}");
            return String.join("\n", lines);
        }
    }

    /** Whether a UNIX-domain socket at {@code socket} accepts a connection within {@code seconds}. */
    private static boolean acceptsUnix(Path socket, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return true;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        return false;
    }

}
