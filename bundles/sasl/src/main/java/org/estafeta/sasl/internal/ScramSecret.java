package org.estafeta.sasl.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A user's SCRAM-SHA-256 verifier (RFC 5802, RFC 7677): iteration count, salt, {@code StoredKey} and
 * {@code ServerKey}. It is not password-equivalent: a thief can only guess passwords offline, at the cost of
 * {@code iterations} HMAC-SHA-256 rounds per guess. PLAIN and LOGIN check a password against it too.
 *
 * <p>Immutable and thread-safe; the arrays handed out are copies.
 */
public record ScramSecret(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
    /** RFC 7677's and Cyrus's minimum, and the default of {@code saslpasswd}. */
    public static final int DEFAULT_ITERATIONS = 4096;
    public static final int MIN_ITERATIONS = 4096;
    public static final int MAX_ITERATIONS = 10_000_000;
    public static final int KEY_LENGTH = 32;
    public static final int SALT_LENGTH = 16;

    public ScramSecret {
        if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException("iteration count " + iterations + " out of range " + MIN_ITERATIONS
                    + ".." + MAX_ITERATIONS);
        }
        if (salt.length == 0) {
            throw new IllegalArgumentException("empty salt");
        }
        if (storedKey.length != KEY_LENGTH || serverKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("StoredKey and ServerKey must have " + KEY_LENGTH + " bytes");
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    /** Derives the verifier of {@code password} (SASLprep'ed here) with a fresh random salt. */
    public static ScramSecret derive(String password, int iterations, SecureRandom random) {
        byte[] salt = new byte[SALT_LENGTH];
        random.nextBytes(salt);
        return derive(password, salt, iterations);
    }

    /** Derives the verifier of {@code password} (SASLprep'ed here) with {@code salt}. */
    public static ScramSecret derive(String password, byte[] salt, int iterations) {
        byte[] salted = saltedPassword(SaslPrep.prepare(password).getBytes(StandardCharsets.UTF_8), salt, iterations);
        try {
            return new ScramSecret(iterations, salt, sha256(hmac(salted, "Client Key")), hmac(salted, "Server Key"));
        } finally {
            Arrays.fill(salted, (byte) 0);
        }
    }

    /**
     * Whether {@code password} (UTF-8 as the client sent it; SASLprep'ed here) is the one this verifier was made
     * from: derives {@code SaltedPassword} and compares {@code StoredKey} in constant time. Costs
     * {@link #iterations} HMAC rounds.
     */
    public boolean matches(byte[] password) {
        String prepared;
        try {
            prepared = SaslPrep.prepare(StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(password))
                    .toString());
        } catch (java.nio.charset.CharacterCodingException | IllegalArgumentException e) {
            // not UTF-8 or not a valid SASLprep string: no stored password can match; spend the same time anyway
            saltedPassword(password, salt, iterations);
            return false;
        }
        byte[] salted = saltedPassword(prepared.getBytes(StandardCharsets.UTF_8), salt, iterations);
        try {
            return MessageDigest.isEqual(sha256(hmac(salted, "Client Key")), storedKey);
        } finally {
            Arrays.fill(salted, (byte) 0);
        }
    }

    /** RFC 5802's Hi(): PBKDF2 with HMAC-SHA-256, one block. */
    static byte[] saltedPassword(byte[] password, byte[] salt, int iterations) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            // an empty key is legal for HMAC but refused by SecretKeySpec: HMAC pads keys with zeros, so one zero byte
            // is the same key
            mac.init(new SecretKeySpec(password.length == 0 ? new byte[1] : password, "HmacSHA256"));
            mac.update(salt);
            mac.update(new byte[] {0, 0, 0, 1});
            byte[] u = mac.doFinal();
            byte[] result = u.clone();
            for (int i = 1; i < iterations; i++) {
                u = mac.doFinal(u);
                for (int k = 0; k < result.length; k++) {
                    result[k] ^= u[k];
                }
            }
            return result;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    static byte[] hmac(byte[] key, String text) {
        return hmac(key, text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramSecret s && s.iterations == iterations && Arrays.equals(s.salt, salt)
                && Arrays.equals(s.storedKey, storedKey) && Arrays.equals(s.serverKey, serverKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(storedKey);
    }

    @Override
    public String toString() {
        return "ScramSecret[iterations=" + iterations + "]";
    }
}
