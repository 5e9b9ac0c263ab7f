package org.estafeta.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's real {@code postmap -q KEY TYPE:NAME}: the reference the differential tests compare against. */
/** Runs the real Postfix postmap -q (Debian package postfix), for differential tests of table types. */
public final class Postmap {
    public static final String POSTMAP = "/usr/sbin/postmap";

    /** One answer: the value (found), {@code null} (not found), and Postfix's fatal and warning texts. */
    public record Answer(String value, String fatal, List<String> warnings) {
    }

    private Postmap() {
    }

    public static Path require() {
        return Peers.require(POSTMAP, "postfix");
    }

    public static Answer query(String key, String table) throws Exception {
        Process p = new ProcessBuilder(POSTMAP, "-q", key, table).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("postmap -q " + key + " " + table + " did not finish");
        }
        String stdout = new String(out, StandardCharsets.UTF_8);
        String fatal = null;
        List<String> warnings = new ArrayList<>();
        for (String line : new String(err, StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("postmap: fatal: ")) {
                fatal = line.substring("postmap: fatal: ".length());
            } else if (line.startsWith("postmap: warning: ")) {
                String w = line.substring("postmap: warning: ".length());
                if (!warnings.contains(w)) { // texthash re-reads a file changed within the last second
                    warnings.add(w);
                }
            }
        }
        int rc = p.exitValue();
        if (rc == 0) {
            if (!stdout.endsWith("\n")) {
                throw new AssertionError("postmap output without newline: " + stdout);
            }
            return new Answer(stdout.substring(0, stdout.length() - 1), fatal, warnings);
        }
        if (rc == 1) {
            return new Answer(null, fatal, warnings);
        }
        throw new AssertionError("postmap -q " + key + " " + table + " exited " + rc + ": " + new String(err));
    }
}
