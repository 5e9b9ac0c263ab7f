package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.exec;
import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;

/**
 * Issue 2, item 8: the sample plugin (plugins-sample/json-table, built only against the api bundle) hot-deployed
 * into a real Felix running the real bundles. A main.cf that names {@code json:} fails clearly while the bundle
 * is absent; dropping the jar into deploy/ makes the same table answer without a restart; removing it makes it
 * fail cleanly again. Checked through the control socket and through the {@code estafeta} command itself, as an
 * operator would, while the SMTP listener keeps answering throughout.
 */
class JsonTablePluginIT {
    static final int SMTP_PORT = 26825;
    static final String PLUGIN_BSN = "org.estafeta.plugin-json-table";
    static final String MISSING = "unsupported dictionary type: json: no installed bundle registers estafeta.table.type=json";

    @TempDir
    static Path tmp;

    static Path conf;
    static Path var;
    static Path table;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        conf = Files.createDirectories(tmp.resolve("conf"));
        var = Files.createDirectories(tmp.resolve("var"));
        table = tmp.resolve("transport.json");
        Files.writeString(table, "{\n  \"example.com\": \"smtp:[relay.example.com]:25\",\n  \"Example.ORG\": \"error:no mail here\"\n}\n");
        Files.writeString(conf.resolve("main.cf"), String.join("\n",
                "# JsonTablePluginIT: a configuration that needs the json: table type",
                "compatibility_level = 3.6",
                "inet_interfaces = loopback-only",
                "transport_maps = json:" + table,
                ""));
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
    void jsonTablesWorkOnlyWhileThePluginIsDeployed() throws Exception {
        long frameworkStart = gateway.systemContext().getBundle(0).getLastModified();
        // read by another process: closing a descriptor of master.pid in this JVM would drop the gateway's lock
        String pidBefore = exec(List.of("cat", gateway.pidFile().toString()), Map.of(), 30).stdout();

        // 1. absent: a clear error naming parameter, type and the service property that would provide it
        assertTrue(waitFor(() -> status().lines().contains("error: main.cf: transport_maps: " + MISSING), 30),
                "status does not report the missing type: " + status());
        assertTrue(waitFor(() -> status().exit() == 0, 30),
                "the listeners serve even though a table type is missing: " + status());
        ControlClient.Answer absent = lookup("example.com");
        assertEquals(1, absent.exit(), absent.toString());
        assertEquals(List.of("error: json:" + table + ": " + MISSING), absent.lines());
        ItSupport.Result cli = estafeta("postmap", "-q", "example.com", "json:" + table);
        assertEquals(1, cli.exit(), cli.output());
        assertTrue(cli.output().contains(MISSING), cli.output());
        assertTrue(Files.readString(gateway.maillogFile()).contains("transport_maps: " + MISSING),
                "the maillog names the missing type");
        assertSmtpAnswers();

        // 2. dropped into deploy/: the same configuration works, no restart
        Path jar = Path.of(System.getProperty("estafeta.sample.plugin"));
        assertTrue(Files.isRegularFile(jar), "the sample plugin was not built: " + jar);
        Path deployed = gateway.deployDirectory().resolve(jar.getFileName());
        Path partial = gateway.deployDirectory().resolve(".json-table.tmp");
        Files.copy(jar, partial, StandardCopyOption.REPLACE_EXISTING);
        Files.move(partial, deployed, StandardCopyOption.ATOMIC_MOVE);
        assertTrue(waitFor(() -> lookup("example.com").exit() == 0, 30), "no answer after the drop: " + lookup("example.com"));
        assertEquals(new ControlClient.Answer(List.of("smtp:[relay.example.com]:25"), 0), lookup("example.com"));
        assertEquals(new ControlClient.Answer(List.of("error:no mail here"), 0), lookup("EXAMPLE.org"));
        assertEquals(new ControlClient.Answer(List.of(), 1), lookup("example.net"));
        cli = estafeta("postmap", "-q", "example.com", "json:" + table);
        assertEquals(0, cli.exit(), cli.output());
        assertEquals("smtp:[relay.example.com]:25\n", cli.stdout());
        assertFalse(status().lines().stream().anyMatch(l -> l.contains(MISSING)), "still reported missing: " + status());
        ItSupport.Result plugins = estafeta("plugins");
        assertEquals(0, plugins.exit(), plugins.output());
        assertTrue(plugins.stdout().contains(PLUGIN_BSN), plugins.output());
        assertTrue(plugins.stdout().contains("estafeta.table.type=json"), plugins.output());
        assertSmtpAnswers();

        // 3. removed: the type is gone again, cleanly
        Files.delete(deployed);
        assertTrue(waitFor(() -> lookup("example.com").exit() == 1, 30), "still answers after removal: " + lookup("example.com"));
        assertEquals(List.of("error: json:" + table + ": " + MISSING), lookup("example.com").lines());
        assertTrue(waitFor(() -> status().lines().contains("error: main.cf: transport_maps: " + MISSING), 30), status().toString());
        assertFalse(estafeta("plugins").stdout().contains(PLUGIN_BSN), "the bundle is still installed");
        assertSmtpAnswers();

        // the same framework and the same master process all along
        assertEquals(frameworkStart, gateway.systemContext().getBundle(0).getLastModified());
        assertEquals(Bundle.ACTIVE, gateway.systemContext().getBundle(0).getState());
        assertEquals(pidBefore, exec(List.of("cat", gateway.pidFile().toString()), Map.of(), 30).stdout());
    }

    private static ControlClient.Answer status() {
        return control("status");
    }

    private static ControlClient.Answer lookup(String key) {
        return control("lookup " + key + " json:" + table);
    }

    private static ControlClient.Answer control(String request) {
        try {
            return ControlClient.request(gateway.queueDirectory().resolve("private/control"), request, Duration.ofSeconds(20));
        } catch (IOException e) {
            throw new AssertionError("control socket: " + request + ": " + e.getMessage(), e);
        }
    }

    private static ItSupport.Result estafeta(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(ItSupport.home().resolve("bin/estafeta").toString());
        cmd.add("-c");
        cmd.add(conf.toString());
        cmd.addAll(List.of(args));
        return exec(cmd, Map.of("ESTAFETA_VAR", var.toString()), 120);
    }

    private static void assertSmtpAnswers() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", SMTP_PORT), 5000);
            s.setSoTimeout(10_000);
            String banner = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertTrue(banner != null && banner.startsWith("220 "), "banner: " + banner);
        }
    }

}
