package org.estafeta.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

import org.estafeta.config.ConfigSource;
import org.estafeta.launcher.log.FelixLogBridge;
import org.estafeta.launcher.log.JulBridge;
import org.estafeta.launcher.log.Maillog;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gateway: Apache Felix with the bundles of a feature, File Install watching the deploy directory, and
 * the lock on {@code $queue_directory/pid/master.pid}. The {@code estafeta run} command and the integration tests
 * both start it through {@link #start}.
 */
public final class Gateway {
    /** Extra framework property: {@code false} keeps log lines off the console (background mode). */
    public static final String LOG_CONSOLE_PROPERTY = "estafeta.log.console";
    /** Extra framework property or system property: the distribution directory (bin/, system/, features/). */
    public static final String HOME_PROPERTY = "estafeta.home";
    /** The default feature. */
    public static final String DEFAULT_FEATURE = "gateway";

    private static final Logger LOG = LoggerFactory.getLogger("master");
    private static final String WEBCONSOLE_ARTIFACT = "org.apache.felix.webconsole";

    private final Framework framework;
    private final Settings settings;
    private final PidLock lock;
    private final Optional<String> generatedPassword;
    private final Object stopLock = new Object();
    private boolean stopped;

    private Gateway(Framework framework, Settings settings, PidLock lock, Optional<String> generatedPassword) {
        this.framework = framework;
        this.settings = settings;
        this.lock = lock;
        this.generatedPassword = generatedPassword;
    }

    /**
     * Starts a gateway and returns once every bundle of the feature has been started (or has failed to; the
     * maillog says which).
     *
     * @param confDir the directory holding main.cf and master.cf
     * @param varDir the data directory, the default of {@code estafeta_var_directory}
     * @param feature the feature to install ({@code minimal}, {@code gateway} …); null for the default
     * @param extraFrameworkProps framework properties added last (they win); also {@value #HOME_PROPERTY} and
     *     {@value #LOG_CONSOLE_PROPERTY}
     * @throws GatewayException when the configuration is broken, another gateway holds the queue directory, a
     *     bundle of the feature is missing, or the framework cannot start
     */
    public static Gateway start(Path confDir, Path varDir, String feature, Map<String, String> extraFrameworkProps)
            throws GatewayException {
        Map<String, String> extra = extraFrameworkProps == null ? Map.of() : extraFrameworkProps;
        Path home = home(extra);
        Feature f = Feature.load(home.resolve("features"), feature == null ? DEFAULT_FEATURE : feature);
        Path system = home.resolve("system");
        for (Feature.Entry e : f.entries()) {
            if (!Files.isRegularFile(e.jar(system))) {
                throw new GatewayException("feature " + f.name() + ": no jar for " + e.coordinates() + " ("
                        + e.source() + ", line " + e.line() + "): " + e.jar(system) + " is missing");
            }
        }
        Settings s = Settings.read(confDir, varDir);

        PidLock lock = PidLock.acquire(s.pidFile());
        Framework fw = null;
        try {
            for (Path dir : List.of(s.dataDirectory(), s.deployDirectory(), s.queueDirectory().resolve("private"))) {
                Files.createDirectories(dir);
            }
            boolean console = !"false".equals(extra.get(LOG_CONSOLE_PROPERTY));
            Maillog.daemon(s.syslogName(), s.hostName(), s.maillogFile(), console);
            JulBridge.install();

            int deployLevel = f.highestStartLevel() + 1;
            Map<String, Object> props = new HashMap<>();
            props.put(Constants.FRAMEWORK_STORAGE, s.dataDirectory().resolve("felix-cache").toString());
            // The feature and deploy/ are the source of truth: every start installs them afresh.
            props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
            props.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, Integer.toString(deployLevel));
            props.put("felix.startlevel.bundle", Integer.toString(deployLevel));
            props.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, slf4jExports());
            props.put("felix.log.logger", new FelixLogBridge());
            props.put("felix.log.level", "2");
            props.put(ConfigSource.CONFIG_DIRECTORY_PROPERTY, s.configDirectory().toString());
            props.put(ConfigSource.VAR_DIRECTORY_PROPERTY, s.varDirectory().toString());
            props.put("estafeta.version", version());
            // File Install: dropping a jar installs and starts it, removing it uninstalls it.
            props.put("felix.fileinstall.dir", s.deployDirectory().toString());
            props.put("felix.fileinstall.poll", "1000");
            props.put("felix.fileinstall.noInitialDelay", "true");
            props.put("felix.fileinstall.start.level", Integer.toString(deployLevel));
            props.put("felix.fileinstall.bundles.new.start", "true");
            props.put("felix.fileinstall.log.default", "jul");
            props.put("felix.fileinstall.log.level", "3");
            props.put("felix.fileinstall.tmpdir", s.dataDirectory().resolve("fileinstall").toString());

            Optional<String> generated = Optional.empty();
            if (f.entries().stream().anyMatch(e -> e.artifactId().equals(WEBCONSOLE_ARTIFACT))) {
                WebConsoleCredentials.Credentials c = WebConsoleCredentials.resolve(s.webconsoleUser(),
                        s.webconsolePassword(), s.dataDirectory());
                generated = c.generatedPassword();
                props.put("felix.webconsole.username", c.user());
                props.put("felix.webconsole.password", c.passwordHash());
                props.put("felix.webconsole.realm", "Estafeta");
                props.put("org.apache.felix.http.host", s.webconsoleHost());
                props.put("org.osgi.service.http.port", Integer.toString(s.webconsolePort()));
                props.put("org.apache.felix.http.jetty.sendServerHeader", "false");
            }
            props.putAll(extra);
            props.remove(HOME_PROPERTY);
            props.remove(LOG_CONSOLE_PROPERTY);

            FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, Gateway.class.getClassLoader())
                    .findFirst()
                    .orElseThrow(() -> new GatewayException("no OSGi framework on the class path"));
            fw = newFramework(factory, props);
            fw.init();
            BundleContext ctx = fw.getBundleContext();
            for (Feature.Entry e : f.entries()) {
                Path jar = e.jar(system);
                Bundle b = ctx.installBundle(jar.toUri().toString());
                b.adapt(BundleStartLevel.class).setStartLevel(e.startLevel());
                if (!isFragment(jar)) {
                    b.start();
                }
            }
            CountDownLatch started = new CountDownLatch(1);
            ctx.addFrameworkListener(ev -> {
                if (ev.getType() == FrameworkEvent.STARTED) {
                    started.countDown();
                } else if (ev.getType() == FrameworkEvent.ERROR) {
                    Bundle b = ev.getBundle();
                    LOG.error("bundle {}: {}", b == null ? "?" : b.getSymbolicName(), rootMessage(ev.getThrowable()));
                }
            });
            long t0 = System.nanoTime();
            fw.start();
            if (!started.await(180, TimeUnit.SECONDS)) {
                throw new GatewayException("the framework did not reach start level " + deployLevel + " in 180s");
            }
            List<String> inactive = new ArrayList<>();
            for (Bundle b : ctx.getBundles()) {
                if (b.getState() != Bundle.ACTIVE && b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                    inactive.add(b.getSymbolicName() + " (" + stateName(b.getState()) + ")");
                }
            }
            for (String b : inactive) {
                LOG.error("bundle {} did not start", b);
            }
            LOG.info("feature {}: {} bundles in {} ms; deploy directory {}", f.name(), ctx.getBundles().length - 1,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), s.deployDirectory());
            return new Gateway(fw, s, lock, generated);
        } catch (BundleException | IOException | RuntimeException e) {
            abort(fw, lock);
            throw new GatewayException("cannot start the gateway: " + rootMessage(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abort(fw, lock);
            throw new GatewayException("interrupted while starting", e);
        } catch (GatewayException e) {
            abort(fw, lock);
            throw e;
        }
    }

    /** The system bundle's context: install, inspect and stop bundles, look up services. */
    public BundleContext systemContext() {
        return framework.getBundleContext();
    }

    /** The directory File Install watches ({@code estafeta_deploy_directory}). */
    public Path deployDirectory() {
        return settings.deployDirectory();
    }

    public Path queueDirectory() {
        return settings.queueDirectory();
    }

    public Path dataDirectory() {
        return settings.dataDirectory();
    }

    public Path pidFile() {
        return settings.pidFile();
    }

    public Path maillogFile() {
        return settings.maillogFile();
    }

    /** {@code http://host:port/system/console} when the feature has the web console. */
    public String webConsoleUrl() {
        return "http://" + settings.webconsoleHost() + ":" + settings.webconsolePort() + "/system/console";
    }

    /** The web console's user name ({@code estafeta_webconsole_user}). */
    public String webConsoleUser() {
        return settings.webconsoleUser();
    }

    /** The web console password generated by this start (shown once), if one was generated. */
    public Optional<String> generatedWebConsolePassword() {
        return generatedPassword;
    }

    /** Whether the gateway still runs (neither {@link #stop}ped nor stopped from inside the framework). */
    public boolean isRunning() {
        synchronized (stopLock) {
            return !stopped && (framework.getState() & (Bundle.STARTING | Bundle.ACTIVE)) != 0;
        }
    }

    /** Stops the framework (every bundle), then releases the lock. Idempotent. */
    public void stop() {
        synchronized (stopLock) {
            if (stopped) {
                return;
            }
            try {
                framework.stop();
                FrameworkEvent ev = framework.waitForStop(TimeUnit.SECONDS.toMillis(120));
                if (ev.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                    LOG.warn("the framework did not stop within 120s");
                }
            } catch (BundleException e) {
                LOG.error("stopping the framework: {}", rootMessage(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                release();
            }
        }
    }

    /** Waits until the framework stops (a {@code stop} on the control socket, {@link #stop}), then releases the lock. */
    public void awaitStop() throws InterruptedException {
        framework.waitForStop(0);
        synchronized (stopLock) {
            if (!stopped) {
                release();
            }
        }
    }

    private void release() {
        stopped = true;
        lock.close();
        Maillog.close();
    }

    private static void abort(Framework fw, PidLock lock) {
        if (fw != null) {
            try {
                fw.stop();
                fw.waitForStop(30_000);
            } catch (BundleException | InterruptedException | RuntimeException e) {
                // already failing; the cause is reported
            }
        }
        lock.close();
    }

    static Path home(Map<String, String> extra) throws GatewayException {
        String h = extra.get(HOME_PROPERTY);
        if (h == null) {
            h = System.getProperty(HOME_PROPERTY);
        }
        if (h != null && !h.isBlank()) {
            return Path.of(h).toAbsolutePath().normalize();
        }
        try {
            Path jar = Path.of(Gateway.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(jar) && jar.getParent() != null && jar.getParent().getFileName() != null
                    && jar.getParent().getFileName().toString().equals("lib")) {
                return jar.getParent().getParent();
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through
        }
        throw new GatewayException("cannot tell where the distribution is: set -D" + HOME_PROPERTY + "=DIR");
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Framework newFramework(FrameworkFactory factory, Map<String, Object> props) {
        // Felix takes objects for some properties (felix.log.logger); the OSGi signature says String.
        return factory.newFramework((Map) props);
    }

    private static boolean isFragment(Path jar) throws IOException {
        try (JarFile j = new JarFile(jar.toFile())) {
            return j.getManifest() != null
                    && j.getManifest().getMainAttributes().getValue(Constants.FRAGMENT_HOST) != null;
        }
    }

    /** The slf4j packages the system bundle exports: 2.x, and 1.7.36 for the web console's [1.7,2) imports. */
    static String slf4jExports() {
        String v = buildProperty("slf4j.version", "2.0.17");
        return String.join(",",
                "org.slf4j;version=" + v,
                "org.slf4j.spi;version=" + v,
                "org.slf4j.event;version=" + v,
                "org.slf4j.helpers;version=" + v,
                "org.slf4j;version=1.7.36",
                "org.slf4j.helpers;version=1.7.36",
                "org.slf4j.spi;version=1.7.36");
    }

    static String version() {
        return buildProperty("version", "unknown");
    }

    private static String buildProperty(String name, String fallback) {
        try (InputStream in = Gateway.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty(name);
                if (v != null && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall back
        }
        return fallback;
    }

    static String stateName(int state) {
        return switch (state) {
            case Bundle.ACTIVE -> "ACTIVE";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.UNINSTALLED -> "UNINSTALLED";
            default -> Integer.toString(state);
        };
    }

    static String rootMessage(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        StringBuilder sb = new StringBuilder(String.valueOf(t.getMessage() == null ? t : t.getMessage()));
        Throwable c = t.getCause();
        for (int i = 0; c != null && c != t && i < 4; i++, c = c.getCause()) {
            sb.append(": ").append(c.getMessage() == null ? c : c.getMessage());
        }
        return sb.toString();
    }
}
