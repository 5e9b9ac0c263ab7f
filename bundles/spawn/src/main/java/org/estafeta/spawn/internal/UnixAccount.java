package org.estafeta.spawn.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The user and group a command runs as, looked up with {@code getent} (so that NSS sources count, as getpwnam does
 * for Postfix), and the means to switch to them: util-linux's {@code setpriv}, since Java cannot setuid. The same
 * approach as the pipe transport's. Lookups block for at most 10 s.
 *
 * @param user the user name
 * @param uid its user ID
 * @param gid the group ID the command gets: the named group's, or the user's own
 */
record UnixAccount(String user, int uid, int gid) {
    static final Path[] SETPRIV = {Path.of("/usr/bin/setpriv"), Path.of("/bin/setpriv")};

    /**
     * Looks the user (and group, when not null) up.
     *
     * @throws IllegalArgumentException for an unknown name, in spawn(8)'s words
     */
    static UnixAccount lookup(String user, String group) throws IOException {
        String[] pw = getent("passwd", user);
        if (pw == null || pw.length < 4) {
            throw new IllegalArgumentException("unknown user name: " + user);
        }
        int gid = Integer.parseInt(pw[3]);
        if (group != null) {
            String[] gr = getent("group", group);
            if (gr == null || gr.length < 3) {
                throw new IllegalArgumentException("unknown group name: " + group);
            }
            gid = Integer.parseInt(gr[2]);
        }
        return new UnixAccount(user, Integer.parseInt(pw[2]), gid);
    }

    /** The user ID of this JVM, from the owner of {@code /proc/self}. */
    static int currentUid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /** The setpriv program, or null when util-linux's setpriv is not installed. */
    static Path setpriv() {
        for (Path p : SETPRIV) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static String[] getent(String database, String key) throws IOException {
        Process p = new ProcessBuilder("getent", database, key).redirectErrorStream(true).start();
        p.getOutputStream().close();
        try { // one entry fits in the pipe's buffer, so waiting first cannot block getent
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("getent " + database + " " + key + " did not answer in 10s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while looking up " + key, e);
        }
        if (p.exitValue() != 0) {
            return null; // 2: no such entry
        }
        byte[] out = p.getInputStream().readNBytes(64 * 1024);
        String line = new String(out, StandardCharsets.UTF_8).lines().findFirst().orElse("");
        String[] f = line.split(":", -1);
        return f[0].equals(key) ? f : null;
    }
}
