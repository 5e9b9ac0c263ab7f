package org.estafeta.launcher;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SmtpdProtocolScenarios} against the gateway (feature {@code minimal}), with the main.cf and smtpd line
 * Postfix gets in {@link SmtpdProtocolPostfixIT}. Every scenario runs with the same assertions as the Postfix
 * run; the ones that queue a message go through the real Cleanup service and queue store.
 */
class SmtpdProtocolEstafetaIT extends SmtpdProtocolScenarios {
    static final int PORT = 27126;

    @TempDir
    static Path dir;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = EstafetaTarget.start(dir, MAIN_CF, masterCf(PORT));
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
}
