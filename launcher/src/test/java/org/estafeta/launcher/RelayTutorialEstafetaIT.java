package org.estafeta.launcher;

import static org.estafeta.launcher.EstafetaTarget.PENDING;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RelayTutorialScenarios} against the gateway with the files Postfix gets in {@link RelayTutorialPostfixIT}
 * (the transport table as its source file; Estafeta has no {@code hash} type yet). Scenarios that fail until the
 * SMTP issue's server part lands are overridden below with {@code @Tag("pending-smtpd")}.
 */
class RelayTutorialEstafetaIT extends RelayTutorialScenarios {
    static final int PORT = 27226;

    @TempDir
    static Path dir;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("transport"), TRANSPORT);
        Files.writeString(conf.resolve("main.cf"), mainCf(conf.resolve("transport")));
        Files.writeString(conf.resolve("master.cf"), masterCf(PORT));
        gateway = Gateway.start(conf, Files.createDirectories(dir.resolve("var")), "minimal", Map.of());
        EstafetaTarget.awaitListener(PORT);
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.stop();
        }
    }

    @Override
    int port() {
        return PORT;
    }

    // ---- pending: each fails today because the server part of issue 3 is not in yet (MAIL, RCPT, DATA, VRFY
    // answer "451 4.3.2 Error: mail acceptance is not available yet"; EHLO advertises ENHANCEDSTATUSCODES only).
    // Same assertions as the Postfix run; delete an override when its scenario passes.

    @Test
    @Tag(PENDING)
    @Override
    void foreignDomainFromOutsideIsRelayAccessDenied() throws Exception {
        super.foreignDomainFromOutsideIsRelayAccessDenied();
    }

    @Test
    @Tag(PENDING)
    @Override
    void relayDomainFromOutsideIsAccepted() throws Exception {
        super.relayDomainFromOutsideIsAccepted();
    }

    @Test
    @Tag(PENDING)
    @Override
    void subdomainOfARelayDomainFromOutsideIsAccepted() throws Exception {
        super.subdomainOfARelayDomainFromOutsideIsAccepted();
    }

    @Test
    @Tag(PENDING)
    @Override
    void mydestinationFromOutsideIsAccepted() throws Exception {
        super.mydestinationFromOutsideIsAccepted();
    }

    @Test
    @Tag(PENDING)
    @Override
    void lookalikeDomainsFromOutsideAreRelayAccessDenied() throws Exception {
        super.lookalikeDomainsFromOutsideAreRelayAccessDenied();
    }

    @Test
    @Tag(PENDING)
    @Override
    void foreignDomainFromInsideIsRelayed() throws Exception {
        super.foreignDomainFromInsideIsRelayed();
    }

    @Test
    @Tag(PENDING)
    @Override
    void relayDecisionsWithSmtplib() throws Exception {
        super.relayDecisionsWithSmtplib();
    }
}
