package org.estafeta.transport.local.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A passwd entry, looked up with {@code getent} so that NSS sources count, as getpwnam does for Postfix.
 *
 * @param name the login name
 * @param uid its user ID
 * @param gid its primary group ID
 * @param home its home directory
 * @param shell its login shell
 */
record Passwd(String name, int uid, int gid, String home, String shell) {
    /** Where accounts come from: the system's ({@link #SYSTEM}), or a test's. */
    interface Accounts {
        Passwd byName(String name) throws IOException;

        Passwd byUid(int uid) throws IOException;
    }

    /** The system's accounts, through getent. */
    static final Accounts SYSTEM = new Accounts() {
        @Override
        public Passwd byName(String name) throws IOException {
            return lookup(name, false);
        }

        @Override
        public Passwd byUid(int uid) throws IOException {
            return lookup(Integer.toString(uid), true);
        }
    };

    private static Passwd lookup(String key, boolean byUid) throws IOException {
        Process p = new ProcessBuilder("getent", "passwd", "--", key).redirectErrorStream(true).start();
        p.getOutputStream().close();
        try { // one entry fits in the pipe's buffer, so waiting first cannot block getent
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("getent passwd " + key + " did not answer in 10s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while looking up " + key, e);
        }
        byte[] out = p.getInputStream().readNBytes(64 * 1024);
        if (p.exitValue() == 2) {
            return null; // no such entry
        }
        if (p.exitValue() != 0) {
            throw new IOException("getent passwd " + key + " exited with status " + p.exitValue());
        }
        String[] f = new String(out, StandardCharsets.UTF_8).lines().findFirst().orElse("").split(":", -1);
        if (f.length < 7 || !(byUid ? f[2] : f[0]).equals(key)) {
            return null;
        }
        return new Passwd(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[5], f[6]);
    }
}
