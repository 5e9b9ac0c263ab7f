package org.estafeta.launcher;


import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RelayTutorialScenarios} against the gateway with the files Postfix gets in {@link RelayTutorialPostfixIT}
 * (the transport table as its source file; Estafeta has no {@code hash} type yet). Every scenario runs, with the
 * same assertions as the Postfix run.
 */
class RelayTutorialEstafetaIT extends RelayTutorialScenarios {
    static final int PORT = 27226;

    @TempDir
    static Path dir;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        Path transport = Files.createDirectories(dir.resolve("conf")).resolve("transport");
        Files.writeString(transport, TRANSPORT);
        gateway = EstafetaTarget.start(dir, mainCf(transport), masterCf(PORT));
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
