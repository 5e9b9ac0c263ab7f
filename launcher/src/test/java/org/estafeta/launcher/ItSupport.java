package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.Assumptions;

/** What the integration tests share: running commands, waiting for a condition, real peers. */
final class ItSupport {
    private ItSupport() {
    }

    /** The assembled distribution (target/estafeta), as failsafe's estafeta.home names it. */
    static Path home() throws GatewayException {
        return Gateway.home(Map.of());
    }

    /** Skips the test when a real peer is missing, or fails it when ESTAFETA_REQUIRE_PEERS=1 (scripts/test.sh). */
    static void requirePeer(String path, String pkg) {
        if (Files.isExecutable(Path.of(path))) {
            return;
        }
        String msg = path + " is missing (Debian package " + pkg + "; scripts/install-peers.sh installs it)";
        if ("1".equals(System.getenv("ESTAFETA_REQUIRE_PEERS"))) {
            fail(msg);
        }
        Assumptions.abort(msg);
    }

    static boolean waitFor(BooleanSupplier condition, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(200);
        }
        return condition.getAsBoolean();
    }

    /** Runs the distribution's {@code bin/estafeta -c CONF ARGS...} with {@code ESTAFETA_VAR=var}. */
    static Result estafeta(Path conf, Path var, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(home().resolve("bin/estafeta").toString());
        cmd.add("-c");
        cmd.add(conf.toString());
        cmd.addAll(List.of(args));
        return exec(cmd, Map.of("ESTAFETA_VAR", var.toString()), 120);
    }

    /** The gateway's maillog as it is now. */
    static String maillog(Gateway gateway) {
        try {
            return Files.readString(gateway.maillogFile(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "(maillog unreadable: " + e + ")";
        }
    }

    /** What a command did; {@code output} is stdout followed by stderr. */
    record Result(int exit, String stdout, String output) {
    }

    static Result exec(List<String> cmd, Map<String, String> env, int timeoutSeconds) throws Exception {
        Path outFile = Files.createTempFile("estafeta-it-out", ".txt");
        Path errFile = Files.createTempFile("estafeta-it-err", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(outFile.toFile()).redirectError(errFile.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(cmd.get(0) + " did not finish in " + timeoutSeconds + "s");
            }
            String out = Files.readString(outFile, StandardCharsets.UTF_8);
            String err = Files.readString(errFile, StandardCharsets.UTF_8);
            return new Result(p.exitValue(), out, out + err);
        } finally {
            Files.deleteIfExists(outFile);
            Files.deleteIfExists(errFile);
        }
    }
}
