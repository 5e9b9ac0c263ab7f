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

        /**
         * The queue ID of {@code 250 2.0.0 Ok: queued as ID} (the last such line); throws an {@link AssertionError}
         * with swaks' output when the message was not queued.
         */
        public String queueId() {
            String queued = last("250 2.0.0");
            java.util.regex.Matcher m = QUEUED.matcher(queued == null ? "" : queued);
            if (!m.find()) {
                throw new AssertionError("not queued: " + result.output());
            }
            return m.group(1);
        }
    }

    private static final java.util.regex.Pattern QUEUED =
            java.util.regex.Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");

    /**
     * Sends {@code message} (written to a file in {@code dir}, as swaks' {@code --data} reads it) from {@code from} to
     * {@code to} and returns the queue ID it got; fails the test when it was not queued.
     */
    public static String send(int port, java.nio.file.Path dir, String from, String to, String message)
            throws IOException, InterruptedException {
        java.nio.file.Path data = java.nio.file.Files.createTempFile(dir, "message", ".eml");
        java.nio.file.Files.writeString(data, message, java.nio.charset.StandardCharsets.UTF_8);
        return run(port, "--from", from, "--to", to, "--data", data.toString()).queueId();
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
