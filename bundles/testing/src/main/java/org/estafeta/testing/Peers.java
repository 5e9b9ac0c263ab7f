package org.estafeta.testing;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/**
 * Real peers (programs from Debian packages) that interop tests run. A missing peer skips the test, or fails it
 * when {@code ESTAFETA_REQUIRE_PEERS=1} (scripts/test.sh and CI set it), so that CI never passes by skipping.
 */
public final class Peers {
    /** Environment variable: when {@code 1}, a missing peer fails the test instead of skipping it. */
    public static final String REQUIRE_PEERS = "ESTAFETA_REQUIRE_PEERS";

    public static final String SWAKS = "/usr/bin/swaks";
    /** Debian's own python3 (not a pyenv shim that may lack the standard library's smtplib). */
    public static final String PYTHON3 = "/usr/bin/python3";
    public static final String POSTFIX = "/usr/sbin/postfix";

    private Peers() {
    }

    /** The executable at {@code path}; skips or fails the calling test when it is missing. */
    public static Path require(String path, String debianPackage) {
        Path p = Path.of(path);
        if (!Files.isExecutable(p)) {
            missing(path + " is missing (Debian package " + debianPackage + "; scripts/install-peers.sh installs it)");
        }
        return p;
    }

    /** Skips the calling test with {@code why}, or fails it when {@value #REQUIRE_PEERS}=1. */
    public static void missing(String why) {
        if (requirePeers()) {
            throw new AssertionError(why + " and " + REQUIRE_PEERS + "=1");
        }
        Assumptions.abort(why);
    }

    public static boolean requirePeers() {
        return "1".equals(System.getenv(REQUIRE_PEERS));
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
