package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import org.estafeta.testing.Dnsmasq;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RestrictionScenarios} against the gateway (feature {@code minimal}) with the main.cf and master.cf Postfix
 * gets in {@link RestrictionsPostfixIT}, pointed with {@code estafeta_dns_servers} at a dnsmasq ({@link Dnsmasq}) on
 * a high port serving the same {@link #RECORDS}.
 */
class RestrictionsEstafetaIT extends RestrictionScenarios {
    static final int PORT = 27426;

    @TempDir
    static Path dir;
    static Dnsmasq dns;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        dns = EstafetaTarget.dnsmasq(RECORDS);
        gateway = EstafetaTarget.start(dir, mainCf(dns.server()), masterCf(PORT));
        for (Profile p : Profile.values()) {
            EstafetaTarget.awaitListener(PORT + p.offset);
        }
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
    int basePort() {
        return PORT;
    }

    /**
     * A deliberate difference (docs/compatibility.md): Estafeta answers an overlong command as current Postfix
     * (3.12) does, where Postfix 3.7 ran the first line_length_limit bytes and then the rest as another command
     * ({@link RestrictionsPostfixIT#overlongCommandRunsItsFirstPart}).
     */
    @Test
    void overlongCommandIsRefused() throws Exception {
        assertEquals(List.of("500 5.5.2 relay.univ.es Error: command too long", "221 2.0.0 Bye"), overlongCommand());
    }
}
