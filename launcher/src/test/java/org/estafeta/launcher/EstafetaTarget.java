package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.estafeta.testing.Dnsmasq;

/** What the Estafeta side of the differential tests shares. */
final class EstafetaTarget {
    private EstafetaTarget() {
    }

    /**
     * What PrivatePostfix gives the Postfix side before the test's main.cf (see its Javadoc): an aliases table with
     * {@code postmaster: root}, standing for the /etc/aliases every real system has (this machine's
     * /etc/aliases.db is Postfix's Berkeley DB, which Estafeta does not read). The test's text may override it.
     */
    static final String ALIASES = "alias_maps = inline:{ postmaster=root }\n";

    /**
     * Starts a gateway (feature {@code minimal}) on {@code dir}/conf holding this main.cf (after {@link #ALIASES}) and
     * master.cf, with its data in {@code dir}/var; {@code conf/} may already hold the tables main.cf names.
     */
    static Gateway start(Path dir, String mainCf, String masterCf) throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("main.cf"), ALIASES + mainCf);
        Files.writeString(conf.resolve("master.cf"), masterCf);
        return Gateway.start(conf, Files.createDirectories(dir.resolve("var")), "minimal", Map.of());
    }

    /** A dnsmasq on a high loopback port serving these records (its options), as Postfix's side gets them. */
    static Dnsmasq dnsmasq(List<String> records) throws Exception {
        Dnsmasq.require();
        Dnsmasq.Builder b = Dnsmasq.builder();
        records.forEach(b::option);
        return b.start();
    }

    /** Waits until 127.0.0.1:port accepts connections: Gateway.start may return before the listener is bound. */
    static void awaitListener(int port) throws InterruptedException {
        assertTrue(ItSupport.waitFor(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return true;
            } catch (IOException e) {
                return false;
            }
        }, 30), "the gateway does not listen on 127.0.0.1:" + port);
    }
}
