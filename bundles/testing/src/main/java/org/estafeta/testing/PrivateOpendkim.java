package org.estafeta.testing;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private, real OpenDKIM milter (Debian's {@code opendkim}, keys from {@code opendkim-tools}' {@code opendkim-genkey})
 * in a directory of the test's, listening on {@code inet:PORT@127.0.0.1} (a free port). Two roles:
 * <ul>
 * <li>{@link #signer}: {@code Mode sv} with {@code Domain}/{@code Selector}/{@code KeyFile} (no KeyTable), a fresh
 *     1024-bit RSA key made by {@code opendkim-genkey} in {@code DIR/keys}; it signs mail from the domain when the
 *     client is one of its {@code InternalHosts} (the default: 127.0.0.1).</li>
 * <li>{@link #verifier}: {@code Mode v}; the signer's public key comes from a {@code TestPublicKeys} file
 *     ({@code selector._domainkey.domain record} per line; OpenDKIM's offline key source for automated tests), so
 *     no DNS is involved. It adds {@code Authentication-Results: AUTHSERV; dkim=pass ...}.</li>
 * </ul>
 * The key stays in the test's temporary directory, which lies under a world-writable {@code /tmp}, so the
 * configuration says {@code RequireSafeKeys no} (otherwise OpenDKIM refuses: "/tmp can be read or written by other
 * users"). opendkim runs in the foreground ({@code -f -x DIR/opendkim.conf}) as a child of the test JVM, logging to
 * {@code DIR/opendkim.log}; readiness is its port accepting a connection. Never the system's opendkim service.
 */
public final class PrivateOpendkim implements AutoCloseable {
    public static final String OPENDKIM = "/usr/sbin/opendkim";
    public static final String GENKEY = "/usr/sbin/opendkim-genkey";

    private final Path dir;
    private final int port;
    private final String publicKeyRecord;
    private Process process;

    private PrivateOpendkim(Path dir, int port, String publicKeyRecord) {
        this.dir = dir;
        this.port = port;
        this.publicKeyRecord = publicKeyRecord;
    }

    /** Makes a key for {@code selector._domainkey.domain} and starts a signing (and verifying) opendkim. */
    public static PrivateOpendkim signer(Path dir, String domain, String selector) throws IOException, InterruptedException {
        Peers.require(OPENDKIM, "opendkim");
        Peers.require(GENKEY, "opendkim-tools");
        Path keys = Files.createDirectories(dir.resolve("keys"));
        ProcessRunner.run(List.of(GENKEY, "-D", keys.toString(), "-d", domain, "-s", selector, "-b", "1024"), 60).ok();
        String record = record(Files.readString(keys.resolve(selector + ".txt"), StandardCharsets.US_ASCII));
        int port = PeerProcesses.freePort();
        write(dir, port, List.of(
                "Mode sv",
                "Domain " + domain,
                "Selector " + selector,
                "KeyFile " + keys.resolve(selector + ".private"),
                "Canonicalization relaxed/simple"));
        PrivateOpendkim o = new PrivateOpendkim(dir, port, record);
        o.start();
        return o;
    }

    /**
     * Starts a verifying opendkim that knows one public key: {@code record} (a DKIM TXT record's text) for
     * {@code selector._domainkey.domain}; {@code authservId} names it in Authentication-Results.
     */
    public static PrivateOpendkim verifier(Path dir, String domain, String selector, String record, String authservId)
            throws IOException, InterruptedException {
        Peers.require(OPENDKIM, "opendkim");
        Files.createDirectories(dir);
        Path keys = dir.resolve("test-public-keys");
        Files.writeString(keys, selector + "._domainkey." + domain + " " + record + "\n", StandardCharsets.US_ASCII);
        int port = PeerProcesses.freePort();
        write(dir, port, List.of(
                "Mode v",
                "TestPublicKeys " + keys,
                "AuthservID " + authservId,
                "AlwaysAddARHeader yes"));
        PrivateOpendkim o = new PrivateOpendkim(dir, port, record);
        o.start();
        return o;
    }

    private static void write(Path dir, int port, List<String> role) throws IOException {
        List<String> conf = new ArrayList<>(List.of(
                "# private instance (PrivateOpendkim)",
                "Syslog no",
                "Socket inet:" + port + "@127.0.0.1",
                "PidFile " + dir.resolve("opendkim.pid"),
                "RequireSafeKeys no",
                "LogWhy yes"));
        conf.addAll(role);
        Files.writeString(dir.resolve("opendkim.conf"), String.join("\n", conf) + "\n", StandardCharsets.US_ASCII);
    }

    /** The TXT record's text from opendkim-genkey's zone-file snippet: the quoted strings joined. */
    static String record(String zoneSnippet) {
        StringBuilder b = new StringBuilder();
        Matcher m = Pattern.compile("\"([^\"]*)\"").matcher(zoneSnippet);
        while (m.find()) {
            b.append(m.group(1));
        }
        if (b.indexOf("p=") < 0) {
            throw new AssertionError("no public key in opendkim-genkey's output: " + zoneSnippet);
        }
        return b.toString().strip();
    }

    /** The DKIM TXT record of the signer's key, e.g. {@code v=DKIM1; h=sha256; k=rsa; p=MIGf...}. */
    public String publicKeyRecord() {
        return publicKeyRecord;
    }

    public int port() {
        return port;
    }

    /** {@code inet:127.0.0.1:PORT}, as smtpd_milters names it. */
    public String milterAddress() {
        return "inet:127.0.0.1:" + port;
    }

    /** Starts opendkim and waits (20 s at most) until its port accepts connections. */
    public void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        process = new ProcessBuilder(OPENDKIM, "-f", "-x", dir.resolve("opendkim.conf").toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("opendkim.log").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        PeerProcesses.awaitListening(process, port, 20, "opendkim", this::log, this::stop);
    }

    /** Stops opendkim (SIGTERM, SIGKILL after 10 s). */
    public void stop() {
        if (process == null) {
            return;
        }
        PeerProcesses.stop(process, 10);
        process = null;
    }

    @Override
    public void close() {
        stop();
    }

    /** opendkim's output so far (for failure messages). */
    public String log() {
        return PeerProcesses.read(dir.resolve("opendkim.log"));
    }
}
