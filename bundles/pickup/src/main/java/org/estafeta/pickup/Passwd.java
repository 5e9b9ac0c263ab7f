package org.estafeta.pickup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An entry of the user database: {@code /etc/passwd}, then {@code getent passwd} (NSS sources such as LDAP). The
 * JDK names the peer of a Unix-domain socket by user name; this gives its numeric ID and GECOS field.
 *
 * @param name the login name
 * @param uid the numeric user ID
 * @param gecos the GECOS (full name) field
 */
public record Passwd(String name, long uid, String gecos) {
    /** The entry for {@code name}; empty when there is none. */
    public static Optional<Passwd> lookup(String name) {
        if (name == null || name.isEmpty() || name.contains(":") || name.contains("\n")) {
            return Optional.empty();
        }
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"), StandardCharsets.UTF_8)) {
                Optional<Passwd> p = parse(line);
                if (p.isPresent() && p.get().name().equals(name)) {
                    return p;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through to getent
        }
        try {
            Process p = new ProcessBuilder("getent", "passwd", "--", name).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? parse(out).filter(e -> e.name().equals(name)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    static Optional<Passwd> parse(String line) {
        String[] f = line.split(":", -1);
        if (f.length < 7) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Passwd(f[0], Long.parseLong(f[2]), f[4]));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
