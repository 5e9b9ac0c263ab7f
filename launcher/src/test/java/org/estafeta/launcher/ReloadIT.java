package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.exec;
import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code estafeta reload} against a running gateway, as an operator types it: a broken main.cf (an expansion loop,
 * a line without '=') is refused with file and line and the gateway keeps serving on the previous configuration;
 * a good one is applied, and new SMTP sessions see it.
 */
class ReloadIT {
    static final int SMTP_PORT = 26925;

    @TempDir
    static Path tmp;

    static Path conf;
    static Path var;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        conf = Files.createDirectories(tmp.resolve("conf"));
        var = Files.createDirectories(tmp.resolve("var"));
        writeMainCf("smtpd_banner = first.example ESMTP first");
        Files.writeString(conf.resolve("master.cf"), "127.0.0.1:" + SMTP_PORT + " inet n - n - - smtpd\n");
        gateway = Gateway.start(conf, var, "minimal", Map.of());
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.stop();
        }
    }

    @Test
    void brokenFilesKeepTheRunningConfigurationAndAGoodOneIsApplied() throws Exception {
        assertTrue(waitFor(() -> banner().equals("220 first.example ESMTP first"), 30), banner());

        writeMainCf("a = $b", "b = $a", "smtpd_banner = $a");
        ItSupport.Result loop = estafeta("reload");
        assertEquals(1, loop.exit(), loop.output());
        assertTrue(loop.output().contains(conf.resolve("main.cf") + ", line 1: unreasonable macro call nesting: $a -> $b -> $a"),
                loop.output());
        assertTrue(loop.output().contains("keeping the previous configuration"), loop.output());
        assertEquals("220 first.example ESMTP first", banner());

        writeMainCf("smtpd_banner = second.example ESMTP second", "this line has no equals sign");
        ItSupport.Result bad = estafeta("reload");
        assertEquals(1, bad.exit(), bad.output());
        assertTrue(bad.output().contains(conf.resolve("main.cf") + ", line 2: missing '=' after attribute name: "
                + "\"this line has no equals sign\""), bad.output());
        assertTrue(bad.output().contains("keeping the previous configuration"), bad.output());
        assertEquals("220 first.example ESMTP first", banner());

        // the running gateway is still reachable and says it serves, while the file on disk is broken
        ItSupport.Result status = estafeta("status");
        assertEquals(0, status.exit(), status.output());
        assertTrue(status.output().contains("warning: " + conf.resolve("main.cf") + ", line 2: missing '='"), status.output());
        assertTrue(status.stdout().contains("smtpd listening on 127.0.0.1:" + SMTP_PORT), status.output());

        writeMainCf("smtpd_banner = second.example ESMTP second");
        ItSupport.Result good = estafeta("reload");
        assertEquals(0, good.exit(), good.output());
        assertTrue(good.stdout().startsWith("reloaded configuration " + conf), good.output());
        assertTrue(waitFor(() -> banner().equals("220 second.example ESMTP second"), 30), banner());
        assertTrue(Files.readString(gateway.maillogFile()).contains("keeping the previous configuration"),
                "the refused reloads are in the maillog too");
    }

    private static void writeMainCf(String... lines) throws IOException {
        // compatibility_level last, so that the line numbers the assertions name are those of `lines`
        Files.writeString(conf.resolve("main.cf"), String.join("\n", lines) + "\ncompatibility_level = 3.6\n");
    }

    private static String banner() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", SMTP_PORT), 5000);
            s.setSoTimeout(10_000);
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            return line == null ? "(closed)" : line;
        } catch (IOException e) {
            return "(" + e.getMessage() + ")";
        }
    }

    private static ItSupport.Result estafeta(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ItSupport.home().resolve("bin/estafeta").toString());
        cmd.add("-c");
        cmd.add(conf.toString());
        cmd.addAll(List.of(args));
        return exec(cmd, Map.of("ESTAFETA_VAR", var.toString()), 120);
    }
}
