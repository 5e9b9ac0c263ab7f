package org.estafeta.launcher;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** {@link ContentChecksScenarios} against the gateway, with the files Postfix gets in {@link ContentChecksPostfixIT}. */
class ContentChecksEstafetaIT extends ContentChecksScenarios {
    static final int PORT = 27141;

    @TempDir
    static Path dir;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("header_checks"), tutorialFile("header_checks"));
        Files.writeString(conf.resolve("body_checks"), tutorialFile("body_checks"));
        gateway = EstafetaTarget.start(dir, mainCf(conf.resolve("header_checks"), conf.resolve("body_checks")),
                "127.0.0.1:" + PORT + " inet n - n - - smtpd\n");
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
