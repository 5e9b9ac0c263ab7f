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
 * {@link SmtpdProtocolScenarios} against the gateway (feature {@code minimal}), with the main.cf and smtpd line
 * Postfix gets in {@link SmtpdProtocolPostfixIT}. Scenarios that fail until the SMTP issue's server part lands
 * are overridden below with {@code @Tag("pending-smtpd")}, which the failsafe configuration leaves out; the
 * assertions are the same ones, unchanged. Remove an override once its scenario passes.
 */
class SmtpdProtocolEstafetaIT extends SmtpdProtocolScenarios {
    static final int PORT = 27126;

    @TempDir
    static Path dir;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("main.cf"), MAIN_CF);
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
    void ehloCapabilitiesWithSwaks() throws Exception {
        super.ehloCapabilitiesWithSwaks();
    }

    @Test
    @Tag(PENDING)
    @Override
    void ehloCapabilitiesWithSmtplib() throws Exception {
        super.ehloCapabilitiesWithSmtplib();
    }

    @Test
    @Tag(PENDING)
    @Override
    void heloIsRequiredBeforeMail() throws Exception {
        super.heloIsRequiredBeforeMail();
    }

    @Test
    @Tag(PENDING)
    @Override
    void vrfyIsDisabled() throws Exception {
        super.vrfyIsDisabled();
    }

    @Test
    @Tag(PENDING)
    @Override
    void declaredSizeOverTheLimitIsRefused() throws Exception {
        super.declaredSizeOverTheLimitIsRefused();
    }

    @Test
    @Tag(PENDING)
    @Override
    void contentOverTheLimitIsRefusedAtTheEndOfData() throws Exception {
        super.contentOverTheLimitIsRefusedAtTheEndOfData();
    }

    @Test
    @Tag(PENDING)
    @Override
    void recipientLimit() throws Exception {
        super.recipientLimit();
    }

    @Test
    @Tag(PENDING)
    @Override
    void badSyntax() throws Exception {
        super.badSyntax();
    }

    @Test
    @Tag(PENDING)
    @Override
    void rsetEndsTheTransaction() throws Exception {
        super.rsetEndsTheTransaction();
    }

    @Test
    @Tag(PENDING)
    @Override
    void commandsOutOfOrder() throws Exception {
        super.commandsOutOfOrder();
    }

    @Test
    @Tag(PENDING)
    @Override
    void pipelinedTransaction() throws Exception {
        super.pipelinedTransaction();
    }
}
