package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.estafeta.launcher.ItSupport.exec;
import static org.estafeta.launcher.ItSupport.home;
import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.estafeta.launcher.ItSupport.waitFor;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;

/**
 * Starts the real Felix with the real bundles of the {@code gateway} feature from the assembled distribution
 * (target/estafeta, made in {@code package}) through {@link Gateway#start}, on a temporary configuration with
 * ports in the 26xxx range, and checks it from the outside: SMTP, the pid lock, hot deployment, the web console
 * in a real headless Chromium. Tests that need a real peer (swaks, chromium) are skipped when it is missing,
 * and fail instead when {@code ESTAFETA_REQUIRE_PEERS=1} (scripts/test.sh).
 */
class GatewayIT {
    /** The bundle the browser must see in the web console's bundle list: the hot-deployed sample plugin. */
    static final String BUNDLE_IN_CONSOLE = "org.estafeta.plugin-json-table";
    static final int SMTP_PORT = 26725;
    static final int HTTP_PORT = 26780;
    static final String CONSOLE_USER = "postmaster";
    static final String CHROMIUM = "/usr/bin/chromium";
    static final String SWAKS = "/usr/bin/swaks";

    @TempDir
    static Path tmp;

    static Path conf;
    static Path var;
    static String consolePassword;
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        conf = Files.createDirectories(tmp.resolve("conf"));
        var = Files.createDirectories(tmp.resolve("var"));
        consolePassword = "pw-" + UUID.randomUUID();
        Files.writeString(conf.resolve("main.cf"), String.join("\n",
                "# GatewayIT",
                "compatibility_level = 3.6",
                "inet_interfaces = loopback-only",
                "mynetworks = 127.0.0.0/8",
                "estafeta_webconsole_listen = 127.0.0.1:" + HTTP_PORT,
                "estafeta_webconsole_user = " + CONSOLE_USER,
                "estafeta_webconsole_password = " + consolePassword,
                ""));
        Files.writeString(conf.resolve("master.cf"),
                "127.0.0.1:" + SMTP_PORT + " inet n - n - - smtpd\n");
        gateway = Gateway.start(conf, var, "gateway", Map.of());
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.stop();
        }
    }

    @Test
    void everyBundleOfTheFeatureIsActive() throws Exception {
        Feature feature = Feature.load(home().resolve("features"), "gateway");
        Map<String, Bundle> byLocation = Arrays.stream(gateway.systemContext().getBundles())
                .collect(Collectors.toMap(Bundle::getLocation, b -> b));
        List<String> problems = new ArrayList<>();
        for (Feature.Entry e : feature.entries()) {
            Bundle b = byLocation.get(e.jar(home().resolve("system")).toUri().toString());
            if (b == null) {
                problems.add(e.coordinates() + ": not installed");
            } else if (b.getState() != Bundle.ACTIVE && b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                problems.add(b.getSymbolicName() + ": " + Gateway.stateName(b.getState()));
            }
        }
        assertTrue(problems.isEmpty(), "bundles not active: " + problems);
        assertTrue(feature.entries().size() >= 20, "the gateway feature lists " + feature.entries().size());
        assertEquals(Bundle.ACTIVE, gateway.systemContext().getBundle(0).getState());
    }

    @Test
    void smtpListenerGreetsWith220() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", SMTP_PORT), 5000);
            s.setSoTimeout(10_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            String banner = in.readLine();
            assertTrue(banner != null && banner.startsWith("220 "), "banner: " + banner);
            OutputStream out = s.getOutputStream();
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String bye = in.readLine();
            assertTrue(bye != null && bye.startsWith("221"), "reply to QUIT: " + bye);
        }
    }

    @Test
    void swaksGetsTheBannerAndEhlo() throws Exception {
        requirePeer(SWAKS, "swaks");
        ItSupport.Result r = exec(List.of(SWAKS, "--server", "127.0.0.1:" + SMTP_PORT, "--quit-after", "EHLO"), Map.of(), 60);
        assertEquals(0, r.exit(), "swaks failed:\n" + r.output());
        assertTrue(Pattern.compile("(?m)^<-  220 ").matcher(r.output()).find(), "no 220 banner:\n" + r.output());
        assertTrue(Pattern.compile("(?m)^<-  250[ -]").matcher(r.output()).find(), "no 250 to EHLO:\n" + r.output());
    }

    /**
     * One gateway per queue directory, seen from inside this JVM and from other processes. Nothing here opens
     * master.pid in this JVM: POSIX drops a process's record locks when it closes any descriptor of the file.
     */
    @Test
    void onlyOneGatewayPerQueueDirectoryAndThePidFileSaysWhich() throws Exception {
        long pid = ProcessHandle.current().pid();
        assertEquals(gateway.queueDirectory().resolve("pid/master.pid"), gateway.pidFile());

        // Postfix's format, read by another process as a monitoring tool would
        ItSupport.Result cat = exec(List.of("cat", gateway.pidFile().toString()), Map.of(), 30);
        assertEquals(String.format("%32d\n", pid), cat.stdout());
        assertEquals(33, cat.stdout().length());

        // a second gateway in this JVM
        GatewayException e = assertThrows(GatewayException.class,
                () -> Gateway.start(conf, var, "minimal", Map.of()));
        assertTrue(e.getMessage().contains("already running"), e.getMessage());

        // a second gateway process: the lock is still held after the refusal above
        Path bin = home().resolve("bin/estafeta");
        Map<String, String> env = Map.of("ESTAFETA_VAR", var.toString());
        ItSupport.Result run = exec(List.of(bin.toString(), "-c", conf.toString(), "-f", "minimal", "run"), env, 120);
        assertNotEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains(
                "estafeta/run: fatal: the Estafeta mail system is already running (pid " + pid + ")"), run.output());

        // status from another process: the lock, then the control socket
        ItSupport.Result status = exec(List.of(bin.toString(), "-c", conf.toString(), "status"), env, 120);
        assertEquals(0, status.exit(), status.output());
        assertTrue(status.stdout().contains("the Estafeta mail system is running: PID: " + pid), status.output());
        assertTrue(status.stdout().contains("127.0.0.1:" + SMTP_PORT), status.output());

        // and the first gateway is untouched
        assertEquals(Bundle.ACTIVE, gateway.systemContext().getBundle(0).getState());
    }

    @Test
    void maillogHasPostfixShape() throws IOException {
        List<String> lines = Files.readAllLines(gateway.maillogFile(), StandardCharsets.UTF_8);
        Pattern shape = Pattern.compile("^[A-Z][a-z]{2} [0-3]\\d \\d\\d:\\d\\d:\\d\\d \\S+ estafeta/[a-z0-9.-]+\\["
                + ProcessHandle.current().pid() + "\\]: .+");
        assertFalse(lines.isEmpty());
        List<String> bad = lines.stream().filter(l -> !shape.matcher(l).matches()).toList();
        assertTrue(bad.isEmpty(), "lines not in maillog shape: " + bad);
        assertTrue(lines.stream().anyMatch(l -> l.contains(" estafeta/master[")), "no master line: " + lines);
    }

    @Test
    void bundleDroppedIntoDeployIsStartedAndRemovedWhenDeleted() throws Exception {
        String bsn = "org.estafeta.it.hotdeploy";
        Path jar = tmp.resolve("hotdeploy.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue(Constants.BUNDLE_MANIFESTVERSION, "2");
        mf.getMainAttributes().putValue(Constants.BUNDLE_SYMBOLICNAME, bsn);
        mf.getMainAttributes().putValue(Constants.BUNDLE_VERSION, "1.0.0");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), mf)) {
            // a manifest-only bundle is enough to show File Install's install/start/uninstall
        }
        Path target = gateway.deployDirectory().resolve("hotdeploy.jar");
        Files.copy(jar, gateway.deployDirectory().resolve(".hotdeploy.tmp"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(gateway.deployDirectory().resolve(".hotdeploy.tmp"), target, StandardCopyOption.ATOMIC_MOVE);
        assertTrue(waitFor(() -> state(bsn) == Bundle.ACTIVE, 30), "not ACTIVE after the drop: " + state(bsn));
        Files.delete(target);
        assertTrue(waitFor(() -> state(bsn) == -1, 30), "still installed after removal: " + state(bsn));
    }

    @Test
    void webConsoleNeedsTheConfiguredPassword() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String url = "http://127.0.0.1:" + HTTP_PORT + "/system/console/bundles";
        assertEquals(401, get(http, url, null));
        assertEquals(401, get(http, url, "admin:admin"));
        assertEquals(401, get(http, url, CONSOLE_USER + ":wrong"));
        assertEquals(200, get(http, url, CONSOLE_USER + ":" + consolePassword));
        // only a hash reached the framework
        String hash = gateway.systemContext().getProperty("felix.webconsole.password");
        assertTrue(hash.startsWith("{sha-256}") && !hash.contains(consolePassword), hash);
    }

    @Test
    void chromiumLogsInAndSeesTheBundleList() throws Exception {
        requirePeer(CHROMIUM, "chromium");
        Path plugin = Path.of(System.getProperty("estafeta.sample.plugin"));
        Path deployed = gateway.deployDirectory().resolve(plugin.getFileName());
        Files.copy(plugin, gateway.deployDirectory().resolve(".plugin.tmp"), StandardCopyOption.REPLACE_EXISTING);
        Files.move(gateway.deployDirectory().resolve(".plugin.tmp"), deployed, StandardCopyOption.ATOMIC_MOVE);
        try {
            assertTrue(waitFor(() -> state(BUNDLE_IN_CONSOLE) == Bundle.ACTIVE, 30), "the sample plugin did not start");
            assertConsoleShowsTheBundleList();
        } finally {
            Files.delete(deployed);
        }
    }

    private void assertConsoleShowsTheBundleList() throws Exception {
        String page = "127.0.0.1:" + HTTP_PORT + "/system/console/bundles";
        String dom = chromiumDom("http://" + CONSOLE_USER + ":" + consolePassword + "@" + page);
        // the bundle table is rendered by the page's script from the bundle data: a row per bundle
        String row = "<span class=\"symName\">" + BUNDLE_IN_CONSOLE + "</span>";
        assertTrue(dom.contains(row), "no row for " + BUNDLE_IN_CONSOLE + " in:\n" + abbreviate(dom));
        assertTrue(dom.contains("bundles in total"), abbreviate(dom));
        // the same browser with a wrong password sees no bundle list
        String denied = chromiumDom("http://" + CONSOLE_USER + ":wrong@" + page);
        assertFalse(denied.contains(row), abbreviate(denied));
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private static String chromiumDom(String url) throws Exception {
        Path profile = Files.createTempDirectory(tmp, "chromium");
        ItSupport.Result r = exec(List.of(CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--virtual-time-budget=15000", "--dump-dom", url), Map.of(), 120);
        assertEquals(0, r.exit(), "chromium failed:\n" + r.output());
        return r.stdout();
    }

    private static int get(HttpClient http, String url, String credentials) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
        if (credentials != null) {
            b.header("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static int state(String bsn) {
        for (Bundle b : gateway.systemContext().getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b.getState();
            }
        }
        return -1;
    }

    private static String abbreviate(String s) {
        return s.length() > 3000 ? s.substring(0, 3000) + "..." : s;
    }
}
