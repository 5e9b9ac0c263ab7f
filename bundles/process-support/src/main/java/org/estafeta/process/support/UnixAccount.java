package org.estafeta.process.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The user and group a command runs as, looked up with {@code getent} (so that NSS sources count, as getpwnam does
 * for Postfix), and the means to switch to them: util-linux's {@code setpriv} ({@link SetprivCommand}), since Java
 * cannot setuid.
 *
 * <p>Immutable. <b>Blocking:</b> a lookup runs {@code getent} and waits for it at most 10 s (then an
 * {@link IOException}).
 *
 * @param user the user name
 * @param uid its user ID
 * @param gid the group ID the command gets: the named group's, or the user's own
 */
public record UnixAccount(String user, int uid, int gid) {
    /** Where util-linux installs setpriv, in the order tried. */
    static final Path[] SETPRIV = {Path.of("/usr/bin/setpriv"), Path.of("/bin/setpriv")};

    /**
     * Looks the user (and group, when not null) up.
     *
     * @throws UnknownAccountException when {@code getent} knows no such user or group (or fails)
     * @throws IOException when {@code getent} cannot be run, does not answer in 10 s, or the thread is interrupted
     */
    public static UnixAccount lookup(String user, String group) throws UnknownAccountException, IOException {
        String[] pw = getent("passwd", user);
        if (pw == null || pw.length < 4) {
            throw new UnknownAccountException(false, user);
        }
        int gid = Integer.parseInt(pw[3]);
        if (group != null) {
            String[] gr = getent("group", group);
            if (gr == null || gr.length < 3) {
                throw new UnknownAccountException(true, group);
            }
            gid = Integer.parseInt(gr[2]);
        }
        return new UnixAccount(user, Integer.parseInt(pw[2]), gid);
    }

    /** The user ID of this JVM, from the owner of {@code /proc/self}. */
    public static int currentUid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /** The setpriv program (the first of {@code /usr/bin/setpriv}, {@code /bin/setpriv}), or null when not installed. */
    public static Path setpriv() {
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
