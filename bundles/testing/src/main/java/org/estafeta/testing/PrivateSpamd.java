package org.estafeta.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private, real spamd (Debian's {@code spamd} and {@code spamassassin}) in a directory of the test's: a unix
 * socket {@code DIR/spamd.sock} (and, when asked, 127.0.0.1:PORT), local tests only ({@code -L}: no DNS, no
 * network), no user configuration ({@code -x}), and its own site configuration directory {@code DIR/site}: the
 * system's {@code *.pre} plugin lists and a {@code local.cf} that turns Bayes and auto-learning off, so that a test
 * leaves nothing behind and every run scores alike. The rules are the installed ones ({@code /usr/share/spamassassin},
 * or sa-update's {@code /var/lib/spamassassin/VERSION} when present, spamd's own choice); without any rules the
 * calling test is skipped, or failed with {@code ESTAFETA_REQUIRE_PEERS=1}. Never the system's spamd service.
 *
 * <p>spamd runs as a child of the test JVM; as root it drops to {@code debian-spamd} (Debian's user) or
 * {@code nobody} ({@code -u}), so the harness makes {@code DIR} readable and the temporary directories above it (under
 * {@code java.io.tmpdir}) searchable by others. Readiness is {@code PING} answered with {@code PONG} on its socket.
 */
public final class PrivateSpamd implements AutoCloseable {
    public static final String SPAMD = "/usr/sbin/spamd";
    /** The rules Debian's spamassassin package installs. */
    public static final Path RULES = Path.of("/usr/share/spamassassin");
    /** GTUBE, the spam test string: SpamAssassin scores it 1000. */
    public static final String GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

    private final Path dir;
    private final int tcpPort;
    private Process process;

    private PrivateSpamd(Path dir, int tcpPort) {
        this.dir = dir;
        this.tcpPort = tcpPort;
    }

    /**
     * Writes the site configuration under {@code dir}, starts spamd and returns once it answers PING.
     *
     * @param tcpPort also listen on 127.0.0.1:tcpPort, or 0 for the unix socket only
     */
    public static PrivateSpamd start(Path dir, int tcpPort) throws IOException, InterruptedException {
        Peers.require(SPAMD, "spamd");
        if (!hasRules()) {
            Peers.missing("no SpamAssassin rules in " + RULES + " (Debian package spamassassin)");
        }
        Path site = Files.createDirectories(dir.resolve("site"));
        try (Stream<Path> s = Files.list(Path.of("/etc/spamassassin"))) {
            for (Path pre : s.filter(p -> p.getFileName().toString().endsWith(".pre")).toList()) {
                Files.copy(pre, site.resolve(pre.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.writeString(site.resolve("local.cf"), String.join("\n",
                "# private instance (PrivateSpamd)",
                "use_bayes 0",
                "bayes_auto_learn 0",
                "use_auto_whitelist 0",
                "required_score 5.0",
                ""), StandardCharsets.US_ASCII);
        Files.createDirectories(dir.resolve("home"));
        // spamd reads the site configuration after dropping to its user: the directories must be readable, and
        // the test's temporary directories above them (JUnit makes them rwx------) searchable
        for (Path p : List.of(dir, site, dir.resolve("home"))) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        for (Path p = dir.toAbsolutePath().getParent(); p != null && p.startsWith(tmp) && !p.equals(tmp); p = p.getParent()) {
            var perms = Files.getPosixFilePermissions(p);
            if (perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                Files.setPosixFilePermissions(p, perms);
            }
        }
        PrivateSpamd s = new PrivateSpamd(dir, tcpPort);
        s.start();
        return s;
    }

    /** Whether rules are installed where spamd looks for them. */
    public static boolean hasRules() {
        try (Stream<Path> s = Files.list(RULES)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".cf"));
        } catch (IOException e) {
            return false;
        }
    }

    public Path socket() {
        return dir.resolve("spamd.sock");
    }

    /** {@code unix:DIR/spamd.sock}, as {@code spamassassin_server} names it. */
    public String unixAddress() {
        return "unix:" + socket();
    }

    /** {@code inet:127.0.0.1:PORT}; only when started with a TCP port. */
    public String inetAddress() {
        if (tcpPort <= 0) {
            throw new IllegalStateException("this spamd has no TCP listener");
        }
        return "inet:127.0.0.1:" + tcpPort;
    }

    /** (Re)starts spamd and waits until it answers PING (60 s at most: it compiles the rules first). */
    public void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of(SPAMD, "-L", "-x", "--siteconfigpath=" + dir.resolve("site"),
                "-H", dir.resolve("home").toString(), "--socketpath=" + socket(), "-r", dir.resolve("spamd.pid").toString(),
                "-s", "stderr", "-m", "3", "--min-children=1"));
        if (tcpPort > 0) {
            cmd.addAll(List.of("-i", "127.0.0.1", "-p", Integer.toString(tcpPort), "-A", "127.0.0.1"));
        }
        if (Peers.isRoot()) {
            cmd.addAll(List.of("-u", userExists("debian-spamd") ? "debian-spamd" : "nobody"));
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("spamd.log").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("spamd exited with " + process.exitValue() + "; its log:\n" + log());
            }
            String pong = ping();
            if (pong != null && pong.contains("PONG")) {
                return;
            }
            Thread.sleep(100);
        }
        String log = log();
        stop();
        throw new AssertionError("spamd does not answer PING on " + socket() + " within 60s; its log:\n" + log);
    }

    private static boolean userExists(String user) {
        try {
            return Files.readAllLines(Path.of("/etc/passwd")).stream().anyMatch(l -> l.startsWith(user + ":"));
        } catch (IOException e) {
            return false;
        }
    }

    private String ping() {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket()));
            OutputStream out = Channels.newOutputStream(ch);
            out.write("PING SPAMC/1.5\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ch.shutdownOutput();
            InputStream in = Channels.newInputStream(ch);
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return null;
        }
    }

    /** Stops spamd (SIGTERM to its parent, which stops its children; SIGKILL after 20 s). */
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

    /** spamd's log so far (for failure messages). */
    public String log() {
        return PeerProcesses.read(dir.resolve("spamd.log"));
    }
}
