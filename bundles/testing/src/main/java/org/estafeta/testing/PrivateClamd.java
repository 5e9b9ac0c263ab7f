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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private, real clamd (Debian's {@code clamav-daemon}) in a directory of the test's: its own {@code clamd.conf},
 * a unix socket {@code DIR/clamd.sock} (and, when asked, a TCP listener on 127.0.0.1:PORT), and a signature
 * database the harness writes, {@code DIR/db/estafeta.ndb}, with one body signature: {@value #SIGNATURE} for the
 * EICAR test string (clamd reports it as {@code Eicar-Signature.UNOFFICIAL}, the suffix clamd gives every unsigned
 * database). Nothing is downloaded: the machine's own databases (freshclam's) are neither needed nor read. Never the
 * system's clamav-daemon service.
 *
 * <p>clamd runs in the foreground as a child of the test JVM ({@code clamd -c DIR/clamd.conf}, {@code Foreground
 * yes}, {@code User root} when the tests run as root) and logs to {@code DIR/clamd.log}. {@link #stop()} and
 * {@link #start()} let a test take it away and bring it back on the same socket; {@link #close()} stops it for good.
 * Readiness is the daemon answering {@code PING} with {@code PONG} on its socket, never a fixed sleep.
 *
 * <p>Without {@code /usr/sbin/clamd} the calling test is skipped, or failed when {@code ESTAFETA_REQUIRE_PEERS=1}.
 */
public final class PrivateClamd implements AutoCloseable {
    public static final String CLAMD = "/usr/sbin/clamd";
    /** The EICAR anti-virus test file (68 bytes), which every scanner reports and which harms nothing. */
    public static final String EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    /** The name of the harness's signature; clamd reports it with {@code .UNOFFICIAL} appended. */
    public static final String SIGNATURE = "Eicar-Signature";

    private final Path dir;
    private final int tcpPort;
    private Process process;

    private PrivateClamd(Path dir, int tcpPort) {
        this.dir = dir;
        this.tcpPort = tcpPort;
    }

    /**
     * Writes a clamd configuration and database under {@code dir} and starts clamd; returns once it answers PING.
     *
     * @param tcpPort also listen on 127.0.0.1:tcpPort, or 0 for the unix socket only
     * @param streamMaxLength clamd's {@code StreamMaxLength} in bytes (the INSTREAM size limit)
     */
    public static PrivateClamd start(Path dir, int tcpPort, long streamMaxLength) throws IOException, InterruptedException {
        Peers.require(CLAMD, "clamav-daemon");
        Files.createDirectories(dir.resolve("db"));
        Files.writeString(dir.resolve("db/estafeta.ndb"), SIGNATURE + ":0:*:"
                + HexFormat.of().formatHex(EICAR.getBytes(StandardCharsets.US_ASCII)) + "\n", StandardCharsets.US_ASCII);
        List<String> conf = new ArrayList<>(List.of(
                "# private instance (PrivateClamd)",
                "LocalSocket " + dir.resolve("clamd.sock"),
                "FixStaleSocket yes",
                "DatabaseDirectory " + dir.resolve("db"),
                "PidFile " + dir.resolve("clamd.pid"),
                "LogFile " + dir.resolve("clamd.log"),
                "LogTime yes",
                "Foreground yes",
                "StreamMaxLength " + streamMaxLength,
                "SelfCheck 3600"));
        if (Peers.isRoot()) {
            conf.add("User root");
        }
        if (tcpPort > 0) {
            conf.add("TCPSocket " + tcpPort);
            conf.add("TCPAddr 127.0.0.1");
        }
        Files.write(dir.resolve("clamd.conf"), conf, StandardCharsets.US_ASCII);
        PrivateClamd c = new PrivateClamd(dir, tcpPort);
        c.start();
        return c;
    }

    /** The unix socket clamd listens on. */
    public Path socket() {
        return dir.resolve("clamd.sock");
    }

    /** {@code unix:DIR/clamd.sock}, as {@code clamav_server} names it. */
    public String unixAddress() {
        return "unix:" + socket();
    }

    /** {@code inet:127.0.0.1:PORT}; only when started with a TCP port. */
    public String inetAddress() {
        if (tcpPort <= 0) {
            throw new IllegalStateException("this clamd has no TCP listener");
        }
        return "inet:127.0.0.1:" + tcpPort;
    }

    public Path directory() {
        return dir;
    }

    /** (Re)starts clamd on the same configuration and waits until it answers PING (30 s at most). */
    public void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        process = new ProcessBuilder(CLAMD, "-c", dir.resolve("clamd.conf").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("clamd.out").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("clamd exited with " + process.exitValue() + "; its log:\n" + log());
            }
            if ("PONG".equals(command("PING"))) {
                return;
            }
            Thread.sleep(100);
        }
        String log = log();
        stop();
        throw new AssertionError("clamd does not answer PING on " + socket() + " within 30s; its log:\n" + log);
    }

    /** Stops clamd (SIGTERM, SIGKILL after 20 s) and waits until it has gone; the socket no longer accepts. */
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

    /** One {@code zCOMMAND} on the unix socket; the answer without its NUL, or null when clamd does not answer. */
    public String command(String command) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket()));
            OutputStream out = Channels.newOutputStream(ch);
            out.write(("z" + command + "\0").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = Channels.newInputStream(ch);
            byte[] answer = in.readAllBytes();
            String s = new String(answer, StandardCharsets.US_ASCII);
            return s.endsWith("\0") ? s.substring(0, s.length() - 1) : s;
        } catch (IOException e) {
            return null;
        }
    }

    /** clamd's log and output so far (for failure messages). */
    public String log() {
        StringBuilder sb = new StringBuilder();
        for (String f : List.of("clamd.log", "clamd.out")) {
            try {
                Path p = dir.resolve(f);
                if (Files.exists(p)) {
                    sb.append(Files.readString(p, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                sb.append("(").append(f).append(" unreadable: ").append(e).append(")\n");
            }
        }
        return sb.toString();
    }
}
