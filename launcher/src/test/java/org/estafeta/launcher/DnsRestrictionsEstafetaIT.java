package org.estafeta.launcher;


import java.nio.file.Path;

import org.estafeta.testing.Dnsmasq;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DnsRestrictionScenarios} against the gateway, pointed with {@code estafeta_dns_servers} at a dnsmasq
 * ({@link Dnsmasq}) on a high port serving the same {@link #RECORDS} as Postfix's. Every scenario runs, with the
 * same assertions as the Postfix run.
 */
class DnsRestrictionsEstafetaIT extends DnsRestrictionScenarios {
    static final int PORT = 27326;

    @TempDir
    static Path dir;
    static Dnsmasq dns;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        dns = EstafetaTarget.dnsmasq(RECORDS);
        gateway = EstafetaTarget.start(dir, mainCf(dns.server()), masterCf(PORT));
        EstafetaTarget.awaitListener(PORT);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.stop();
        }
        if (dns != null) {
            dns.close();
        }
    }

    @Override
    int port() {
        return PORT;
    }
}
