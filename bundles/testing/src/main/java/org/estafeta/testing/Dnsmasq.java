package org.estafeta.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real dnsmasq (Debian's {@code dnsmasq-base}) serving records from its command line on 127.0.0.1 and a free
 * high port, for interop tests: forward and reverse names, MX, TXT, DNSBL listings. Nothing is read from the
 * machine ({@code --no-resolv --no-hosts --conf-file=/dev/null}) and nothing is forwarded: names under a
 * {@link Builder#local local} zone that have no record get NXDOMAIN.
 *
 * <pre>{@code
 * Dnsmasq.require();   // skips, or fails when ESTAFETA_REQUIRE_PEERS=1
 * try (Dnsmasq dns = Dnsmasq.builder().local("test").hostRecord("mail.example.test", "192.0.2.10").start()) {
 *     ... estafeta_dns_servers = dns.server() ...
 * }
 * }</pre>
 */
public final class Dnsmasq implements AutoCloseable {
    private static final String[] CANDIDATES = {"/usr/sbin/dnsmasq", "/sbin/dnsmasq", "/usr/bin/dnsmasq"};

    private final Process process;
    private final int port;
    private final Path log;

    private Dnsmasq(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** The dnsmasq binary, or null when it is not installed. */
    public static Path binary() {
        for (String c : CANDIDATES) {
            Path p = Path.of(c);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * The dnsmasq binary; skips the calling test when it is missing, or fails it when
     * {@code ESTAFETA_REQUIRE_PEERS=1} (see {@link Peers}).
     */
    public static Path require() {
        Path p = binary();
        if (p == null) {
            Peers.missing("dnsmasq is missing (Debian package dnsmasq-base; scripts/install-peers.sh installs it)");
        }
        return p;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The UDP and TCP port it listens on (127.0.0.1). */
    public int port() {
        return port;
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** {@code 127.0.0.1:PORT}, as {@code estafeta_dns_servers} takes it. */
    public String server() {
        return "127.0.0.1:" + port;
    }

    /** What dnsmasq wrote to its log (standard error) so far. */
    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** Stops dnsmasq (it stops answering at once; the port becomes closed). */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException e) {
            // a temporary file; nothing to do
        }
    }

    /** The records dnsmasq serves; each method adds the dnsmasq option of the same name. */
    public static final class Builder {
        private final List<String> options = new ArrayList<>();
        private int localTtl = 0;

        private Builder() {
        }

        /** {@code --local=/zone/}: names under {@code zone} without a record get NXDOMAIN. */
        public Builder local(String zone) {
            return option("--local=/" + zone + "/");
        }

        /** {@code --host-record=name,address}: A or AAAA, and the matching PTR. */
        public Builder hostRecord(String name, String address) {
            return option("--host-record=" + name + "," + address);
        }

        /** {@code --address=/name/address}: A or AAAA for {@code name} and every name under it, no PTR. */
        public Builder address(String name, String address) {
            return option("--address=/" + name + "/" + address);
        }

        /** {@code --ptr-record=ptrName,target} (ptrName such as {@code 11.2.0.192.in-addr.arpa}). */
        public Builder ptrRecord(String ptrName, String target) {
            return option("--ptr-record=" + ptrName + "," + target);
        }

        /** {@code --mx-host=domain,host,preference}. */
        public Builder mxHost(String domain, String host, int preference) {
            return option("--mx-host=" + domain + "," + host + "," + preference);
        }

        /**
         * {@code --txt-record=name,text}. The text goes to dnsmasq as it is (no shell, so no quotes); a comma in it
         * starts another character-string of the same record.
         */
        public Builder txtRecord(String name, String text) {
            return option("--txt-record=" + name + "," + text);
        }

        /** {@code --cname=alias,target}. */
        public Builder cname(String alias, String target) {
            return option("--cname=" + alias + "," + target);
        }

        /** The TTL of the answers from the records above ({@code --local-ttl}); dnsmasq's default is 0. */
        public Builder localTtl(int seconds) {
            this.localTtl = seconds;
            return this;
        }

        /** Any other dnsmasq option, verbatim. */
        public Builder option(String option) {
            options.add(option);
            return this;
        }

        /**
         * Starts dnsmasq on a free port and returns once it answers queries. Retries on another port when the one
         * picked was taken in between.
         */
        public Dnsmasq start() {
            Path binary = binary();
            if (binary == null) {
                throw new IllegalStateException("dnsmasq is not installed (Debian package dnsmasq-base)");
            }
            IOException last = null;
            for (int attempt = 0; attempt < 5; attempt++) {
                try {
                    Dnsmasq d = tryStart(binary, freePort());
                    if (d != null) {
                        return d;
                    }
                } catch (IOException e) {
                    last = e;
                }
            }
            throw new UncheckedIOException("dnsmasq did not start", last != null ? last : new IOException("gave up"));
        }

        private Dnsmasq tryStart(Path binary, int port) throws IOException {
            Path log = Files.createTempFile("dnsmasq-", ".log");
            List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--keep-in-foreground", "--no-resolv",
                    "--no-hosts", "--conf-file=/dev/null", "--bind-interfaces", "--listen-address=127.0.0.1",
                    "--port=" + port, "--pid-file", "--log-facility=-", "--log-queries",
                    "--local-ttl=" + localTtl));
            if (Peers.isRoot()) {
                cmd.add("--user=root"); // no need to drop privileges for a test instance
            }
            cmd.addAll(options);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Dnsmasq d = new Dnsmasq(p, port, log);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                if (!p.isAlive()) {
                    String out = d.log();
                    Files.deleteIfExists(log);
                    if (out.contains("Address already in use")) {
                        return null; // port taken meanwhile: try another
                    }
                    throw new IOException("dnsmasq exited with " + p.exitValue() + ": " + cmd + "\n" + out);
                }
                if (answers(port)) {
                    return d;
                }
            }
            String out = d.log();
            d.close();
            throw new IOException("dnsmasq did not answer on port " + port + " within 10s\n" + out);
        }

        /** A port free for both UDP and TCP on 127.0.0.1 at the time of asking. */
        private static int freePort() throws IOException {
            InetAddress lo = InetAddress.getLoopbackAddress();
            for (int i = 0; i < 20; i++) {
                try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(lo, 0))) {
                    int port = udp.getLocalPort();
                    try (ServerSocket tcp = new ServerSocket(port, 1, lo)) {
                        return port;
                    } catch (IOException e) {
                        // TCP side taken; pick another
                    }
                }
            }
            throw new IOException("no free port on 127.0.0.1");
        }

        /** Sends a query for {@code ./NS} and waits 200 ms for any reply. */
        private static boolean answers(int port) {
            byte[] query = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1};
            try (DatagramSocket s = new DatagramSocket()) {
                s.setSoTimeout(200);
                s.send(new DatagramPacket(query, query.length, InetAddress.getLoopbackAddress(), port));
                byte[] buf = new byte[512];
                DatagramPacket reply = new DatagramPacket(buf, buf.length);
                s.receive(reply);
                return reply.getLength() >= 12 && buf[0] == 0x12 && buf[1] == 0x34;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                try {
                    Thread.sleep(50); // port unreachable: not listening yet
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                return false;
            }
        }
    }
}
