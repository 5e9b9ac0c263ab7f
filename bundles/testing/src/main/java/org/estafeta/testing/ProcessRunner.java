package org.estafeta.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a program to completion with a deadline, capturing stdout and stderr (files, so nothing blocks). */
public final class ProcessRunner {
    private ProcessRunner() {
    }

    /** What a program did. */
    public record Result(List<String> command, int exit, String stdout, String stderr) {
        /** stdout followed by stderr, for failure messages. */
        public String output() {
            return stdout + stderr;
        }

        /** This result, or an {@link AssertionError} with the command and its output when the exit code is not 0. */
        public Result ok() {
            if (exit != 0) {
                throw new AssertionError(command + " exited with " + exit + ":\n" + output());
            }
            return this;
        }
    }

    public static Result run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        return run(command, Map.of(), null, timeoutSeconds);
    }

    /**
     * Runs {@code command} with extra environment {@code env} and {@code stdin} (null: /dev/null); a program that
     * is still running after {@code timeoutSeconds} is killed and the call fails.
     */
    public static Result run(List<String> command, Map<String, String> env, String stdin, int timeoutSeconds)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("estafeta-run-out", ".txt");
        Path err = Files.createTempFile("estafeta-run-err", ".txt");
        Path in = null;
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            if (stdin == null) {
                pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            } else {
                in = Files.createTempFile("estafeta-run-in", ".txt");
                Files.writeString(in, stdin, StandardCharsets.UTF_8);
                pb.redirectInput(in.toFile());
            }
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly); // a script's children too
                p.destroyForcibly();
                throw new AssertionError(command + " did not finish in " + timeoutSeconds + "s; output so far:\n"
                        + Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(List.copyOf(command), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
            if (in != null) {
                Files.deleteIfExists(in);
            }
        }
    }
}
