package org.estafeta.launcher;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.estafeta.testing.PrivatePostfix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link UnlistedRecipientScenarios} against a private real Postfix 3.7: proves the expected replies. */
class UnlistedRecipientPostfixIT extends UnlistedRecipientScenarios {
    static final int PORT = 27160;
    static PrivatePostfix postfix;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        postfix = PrivatePostfix.builder("unlisted-" + PORT).mainCf(MAIN_CF).masterCf(masterCf(PORT)).start();
    }

    @AfterAll
    static void stop() {
        if (postfix != null) {
            postfix.close();
        }
    }

    @Override
    int basePort() {
        return PORT;
    }
}
