package org.estafeta.sasl.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import org.estafeta.api.plugin.PluginContext;

/**
 * Checks a cleartext password (PLAIN, LOGIN) against the user's SCRAM-SHA-256 verifier. An unknown user costs
 * the same PBKDF2 work as a known one, so that timing does not tell which names exist.
 */
final class PasswordCheck {
    /** A verifier of a random password, for unknown users: the same iterations as saslpasswd's default. */
    private static final ScramSecret DECOY = ScramSecret.derive(
            Base64.getEncoder().encodeToString(new SecureRandom().generateSeed(18)), new byte[ScramSecret.SALT_LENGTH],
            ScramSecret.DEFAULT_ITERATIONS);

    private PasswordCheck() {
    }

    /** Whether {@code canonical} exists and {@code password} is theirs; a detail for the log in {@code why[0]}. */
    static boolean verify(SaslDbFiles files, PluginContext context, String canonical, byte[] password, String[] why)
            throws IOException {
        Optional<SaslDb.Entry> e = Users.find(files, context, canonical);
        if (e.isEmpty()) {
            DECOY.matches(password);
            why[0] = "no such user in " + SaslDbFiles.PATH_PARAMETER;
            return false;
        }
        if (!e.get().scram().matches(password)) {
            why[0] = "Password verification failed";
            return false;
        }
        return true;
    }

    /** {@code bytes} as UTF-8, or {@code null} when they are not UTF-8. */
    static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }
}
