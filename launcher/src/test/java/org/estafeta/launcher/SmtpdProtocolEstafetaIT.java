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
 * Postfix gets in {@link SmtpdProtocolPostfixIT}. Scenarios that need a message to be queued
 * fail until the queue issue provides the Cleanup service; they are overridden below with
 * {@code @Tag("pending-queue")}, which the failsafe configuration leaves out. The assertions are the same ones,
 * unchanged. Remove an override once its scenario passes.
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

    // ---- pending: these need a message to be queued, and the gateway has no Cleanup service until the queue
    // issue lands: DATA is answered "451 4.3.0 Error: queue file write error" where Postfix says 354. Same
    // assertions as the Postfix run; delete an override when its scenario passes.

    @Test
    @Tag(PENDING)
    @Override
    void contentOverTheLimitIsRefusedAtTheEndOfData() throws Exception {
        super.contentOverTheLimitIsRefusedAtTheEndOfData();
    }

    @Test
    @Tag(PENDING)
    @Override
    void pipelinedTransaction() throws Exception {
        super.pipelinedTransaction();
    }
}
