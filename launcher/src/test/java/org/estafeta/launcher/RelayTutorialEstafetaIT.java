package org.estafeta.launcher;


import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

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
}
