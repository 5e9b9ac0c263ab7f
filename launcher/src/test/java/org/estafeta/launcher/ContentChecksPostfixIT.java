package org.estafeta.launcher;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.estafeta.testing.PrivatePostfix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link ContentChecksScenarios} against a private, real Postfix: where the expected replies come from. */
class ContentChecksPostfixIT extends ContentChecksScenarios {
    static final int PORT = 27140;
    static PrivatePostfix postfix;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        PrivatePostfix.Builder b = PrivatePostfix.builder("content-checks");
        postfix = b.mainCf(mainCf(b.directory().resolve("header_checks"), b.directory().resolve("body_checks")))
                .masterCf("127.0.0.1:" + PORT + " inet n - n - - smtpd\n")
                .file("header_checks", tutorialFile("header_checks"))
                .file("body_checks", tutorialFile("body_checks"))
                .start();
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
