package org.estafeta.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The web console's password. Felix Web Console 5 takes {@code felix.webconsole.username} and
 * {@code felix.webconsole.password} (framework properties, or the {@code username}/{@code password} of the
 * ConfigAdmin PID {@code org.apache.felix.webconsole.internal.servlet.OsgiManager}), and accepts a hashed
 * password of the form {@code {sha-256}SALT-ITERATIONS-BASE64}: the digest of {@code SALT + password} (UTF-8),
 * re-digested ITERATIONS times in all. The launcher only ever hands it that hash, never the password itself.
 *
 * <p>With {@code estafeta_webconsole_password} set, that password is hashed at every start. With it empty, a
 * random password is generated on the first start, its hash is kept in {@code $data_directory/webconsole.hash}
 * (mode 0600), and the password is shown once; later starts use the stored hash.
 */
final class WebConsoleCredentials {
    static final String HASH_FILE = "webconsole.hash";
    private static final int ITERATIONS = 1000;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789".toCharArray();

    /**
     * @param user the user name
     * @param passwordHash the hashed password to give the console
     * @param generatedPassword the password generated right now, to be shown once; empty otherwise
     */
    record Credentials(String user, String passwordHash, Optional<String> generatedPassword) {
    }

    private WebConsoleCredentials() {
    }

    static Credentials resolve(String user, String configuredPassword, Path dataDirectory) throws IOException {
        if (configuredPassword != null && !configuredPassword.isEmpty()) {
            return new Credentials(user, hash(configuredPassword), Optional.empty());
        }
        Path file = dataDirectory.resolve(HASH_FILE);
        if (Files.exists(file)) {
            String stored = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (stored.startsWith("{sha-256}")) {
                return new Credentials(user, stored, Optional.empty());
            }
        }
        String password = generate(20);
        String hash = hash(password);
        Files.createDirectories(dataDirectory);
        Path tmp = dataDirectory.resolve(HASH_FILE + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, hash + "\n", StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return new Credentials(user, hash, Optional.of(password));
    }

    /** The Web Console's hashed form of {@code password}, with a fresh salt. */
    static String hash(String password) {
        byte[] saltBytes = new byte[8];
        RANDOM.nextBytes(saltBytes);
        return hash(password, HexFormat.of().formatHex(saltBytes), ITERATIONS);
    }

    static String hash(String password, String salt, int iterations) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] bytes = (salt + password).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < iterations; i++) {
                md.reset();
                bytes = md.digest(bytes);
            }
            return "{sha-256}" + salt + "-" + iterations + "-" + Base64.getEncoder().encodeToString(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }

    /** Whether {@code password} matches a hash made by {@link #hash(String)}. */
    static boolean matches(String hash, String password) {
        if (!hash.startsWith("{sha-256}")) {
            return false;
        }
        String[] parts = hash.substring("{sha-256}".length()).split("-", 3);
        if (parts.length != 3) {
            return false;
        }
        String expected = hash(password, parts[0], Integer.parseInt(parts[1]));
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                hash.getBytes(StandardCharsets.US_ASCII));
    }

    private static String generate(int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(ALPHABET[RANDOM.nextInt(ALPHABET.length)]);
        }
        return sb.toString();
    }
}
