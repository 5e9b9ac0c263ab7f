package org.estafeta.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Helpers to build configuration directories for tests. */
final class TestDirs {
    private TestDirs() {
    }

    static Path write(Path dir, String mainCf, String masterCf) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("main.cf"), mainCf, StandardCharsets.UTF_8);
            if (masterCf != null) {
                Files.writeString(dir.resolve("master.cf"), masterCf, StandardCharsets.UTF_8);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String resource(String name) {
        try (InputStream in = TestDirs.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A directory with the tutorial's main.cf (section 1.2) and master.cf (section 1.3). */
    static Path tutorial(Path dir) {
        return write(dir, resource("tutorial/main.cf"), resource("tutorial/master.cf"));
    }
}
