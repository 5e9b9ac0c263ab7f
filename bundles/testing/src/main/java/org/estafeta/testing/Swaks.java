package org.estafeta.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the real swaks and returns what the server said. swaks prints server lines as {@code <-  text} (a
 * success) or {@code <** text} (an error reply); both become plain reply lines here, in order.
 */
public final class Swaks {
    private Swaks() {
    }

    /** The outcome of one swaks run: the server's reply lines and swaks' whole output. */
    public record Transcript(List<String> serverLines, ProcessRunner.Result result) {
        /** The last server line that starts with {@code prefix} (a code such as "554"), or null. */
        public String last(String prefix) {
            for (int i = serverLines.size() - 1; i >= 0; i--) {
                if (serverLines.get(i).startsWith(prefix)) {
                    return serverLines.get(i);
                }
            }
            return null;
        }
    }

    /** {@code swaks --server 127.0.0.1:PORT ARGS...}; skips or fails the test when swaks is missing. */
    public static Transcript run(int port, String... args) throws IOException, InterruptedException {
        Peers.require(Peers.SWAKS, "swaks");
        List<String> cmd = new ArrayList<>(List.of(Peers.SWAKS, "--server", "127.0.0.1:" + port, "--timeout", "20"));
        cmd.addAll(List.of(args));
        ProcessRunner.Result r = ProcessRunner.run(cmd, 60);
        List<String> lines = new ArrayList<>();
        for (String l : r.output().split("\n")) {
            if (l.startsWith("<-  ") || l.startsWith("<** ")) {
                lines.add(l.substring(4).stripTrailing());
            }
        }
        return new Transcript(lines, r);
    }
}
