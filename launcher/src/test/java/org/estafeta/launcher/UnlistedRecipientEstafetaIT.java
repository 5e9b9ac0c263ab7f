package org.estafeta.launcher;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link UnlistedRecipientScenarios} against the gateway (feature {@code minimal}, with the table-unix and
 * table-simple bundles) with the main.cf and master.cf Postfix gets in {@link UnlistedRecipientPostfixIT}.
 */
class UnlistedRecipientEstafetaIT extends UnlistedRecipientScenarios {
    static final int PORT = 27165;

    @TempDir
    static Path dir;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = EstafetaTarget.start(dir, MAIN_CF, masterCf(PORT));
        for (Profile p : Profile.values()) {
            EstafetaTarget.awaitListener(PORT + p.offset);
        }
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.stop();
        }
    }

    @Override
    int basePort() {
        return PORT;
    }
}
