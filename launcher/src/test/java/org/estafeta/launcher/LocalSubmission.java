package org.estafeta.launcher;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Local submission for the integration tests: the distribution's {@code bin/estafeta sendmail} run by the test
 * itself, and a distribution that other users (a pipe(8) command running as an unprivileged user) can run too.
 */
final class LocalSubmission {
    private static Path everyonesHome;

    private LocalSubmission() {
    }

    /**
     * Runs {@code bin/estafeta -c CONF sendmail ARGS...} with {@code ESTAFETA_VAR=var} as the test's own user, with
     * {@code message} (LF line ends, as a local program writes) on its standard input. Blocks until the command ends
     * (at most 120 s, else the test fails).
     */
    static ItSupport.Result sendmail(Path conf, Path var, String message, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "exec \"$0\" \"$@\" <\"$MESSAGE\"",
                ItSupport.home().resolve("bin/estafeta").toString(), "-c", conf.toString(), "sendmail"));
        cmd.addAll(List.of(args));
        Path in = Files.createTempFile("estafeta-it-message", ".eml");
        try {
            Files.writeString(in, message, StandardCharsets.ISO_8859_1);
            return ItSupport.exec(cmd, Map.of("ESTAFETA_VAR", var.toString(), "MESSAGE", in.toString()), 120);
        } finally {
            Files.deleteIfExists(in);
        }
    }

    /**
     * The distribution as an unprivileged user can run it: {@link ItSupport#home()} when every directory above it
     * may be entered by others, else a copy (made once per test JVM, in a directory everyone may enter and removed
     * at its exit) — a checkout under a private directory (a CI clone in a {@code mktemp -d} directory is mode 0700)
     * would make the command fail with 126 before doing anything. Not thread-safe against other copies' removal;
     * synchronized.
     */
    static synchronized Path homeForEveryone() throws Exception {
        Path home = ItSupport.home().toAbsolutePath();
        for (Path p = home; p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                if (everyonesHome == null) {
                    Path dir = Files.createTempDirectory("estafeta-dist");
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                    Path copy = dir.resolve("estafeta");
                    ItSupport.Result cp = ItSupport.exec(List.of("cp", "-a", home.toString(), copy.toString()),
                            Map.of(), 120);
                    if (cp.exit() != 0) {
                        throw new AssertionError("cannot copy the distribution: " + cp.output());
                    }
                    ItSupport.exec(List.of("chmod", "-R", "a+rX", copy.toString()), Map.of(), 120);
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor();
                        } catch (Exception e) {
                            // a leftover copy in the temporary directory
                        }
                    }));
                    everyonesHome = copy;
                }
                return everyonesHome;
            }
        }
        return home;
    }
}
