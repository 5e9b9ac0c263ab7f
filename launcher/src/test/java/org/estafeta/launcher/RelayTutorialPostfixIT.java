package org.estafeta.launcher;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.estafeta.testing.PrivatePostfix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link RelayTutorialScenarios} against a private real Postfix 3.7: proves the expected replies. */
class RelayTutorialPostfixIT extends RelayTutorialScenarios {
    static final int PORT = 27225;
    static PrivatePostfix postfix;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        PrivatePostfix.Builder b = PrivatePostfix.builder("relay-tutorial-" + PORT);
        postfix = b.mainCf(mainCf(b.directory().resolve("transport"))).masterCf(masterCf(PORT))
                .file("transport", TRANSPORT).postmap("hash", "transport").start();
    }

    @AfterAll
    static void stop() {
        if (postfix != null) {
            postfix.close();
        }
    }

    @Override
    int port() {
        return PORT;
    }
}
