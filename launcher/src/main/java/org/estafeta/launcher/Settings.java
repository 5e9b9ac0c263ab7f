package org.estafeta.launcher;

import java.nio.file.Path;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigSnapshot;

/**
 * What the launcher itself needs from main.cf, read offline with the config jar before the framework exists.
 * Every value is the expanded one ({@code postconf -x}); an empty or absent value falls back to a place under the
 * data directory, so that nothing ever lands in Postfix's own /var/spool/postfix by accident.
 */
record Settings(Path configDirectory, Path varDirectory, Path queueDirectory, Path dataDirectory, Path maillogFile,
        Path deployDirectory, String syslogName, String hostName, String webconsoleHost, int webconsolePort,
        String webconsoleUser, String webconsolePassword, ConfigSnapshot snapshot) {

    static final String DEFAULT_WEBCONSOLE_LISTEN = "127.0.0.1:2580";

    /** The settings a gateway runs on: a broken main.cf or master.cf is an error naming file and line. */
    static Settings read(Path confDir, Path varDir) throws GatewayException {
        Path conf = confDir.toAbsolutePath().normalize();
        Path var = varDir.toAbsolutePath().normalize();
        try {
            return from(ConfigBridge.load(conf, var), conf, var);
        } catch (ConfigException e) {
            throw new GatewayException(e.getMessage(), e);
        }
    }

    /**
     * The settings for commands that talk to a running gateway (status, reload, plugins, postmap, stop). A broken
     * main.cf must not keep the operator from reaching the gateway that still runs on the previous configuration:
     * the error is passed to {@code warning} and the best-effort reading finds the queue directory.
     */
    static Settings locate(Path confDir, Path varDir, java.util.function.Consumer<String> warning) throws GatewayException {
        Path conf = confDir.toAbsolutePath().normalize();
        Path var = varDir.toAbsolutePath().normalize();
        try {
            return from(ConfigBridge.load(conf, var), conf, var);
        } catch (ConfigException e) {
            warning.accept(e.getMessage());
            try {
                return from(ConfigBridge.loadLeniently(conf, var), conf, var);
            } catch (ConfigException unreadable) {
                throw new GatewayException(unreadable.getMessage(), unreadable);
            }
        }
    }

    private static Settings from(ConfigSnapshot s, Path conf, Path var) throws GatewayException {
        String listen = value(s, "estafeta_webconsole_listen", DEFAULT_WEBCONSOLE_LISTEN);
        int colon = listen.lastIndexOf(':');
        String host;
        int port;
        try {
            host = colon > 0 ? listen.substring(0, colon) : "127.0.0.1";
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            port = Integer.parseInt(colon >= 0 ? listen.substring(colon + 1) : listen);
        } catch (NumberFormatException e) {
            throw new GatewayException(conf.resolve("main.cf") + ": bad estafeta_webconsole_listen value: " + listen
                    + " (expected host:port)");
        }
        return new Settings(conf, var,
                path(s, "queue_directory", var.resolve("spool"), var),
                path(s, "data_directory", var.resolve("lib"), var),
                path(s, "maillog_file", var.resolve("log").resolve("maillog"), var),
                path(s, "estafeta_deploy_directory", var.resolve("deploy"), var),
                value(s, "syslog_name", "estafeta"),
                value(s, "myhostname", null),
                host, port,
                value(s, "estafeta_webconsole_user", "admin"),
                s.get("estafeta_webconsole_password").orElse(""),
                s);
    }

    Path pidFile() {
        return queueDirectory.resolve("pid").resolve("master.pid");
    }

    Path controlSocket() {
        return queueDirectory.resolve("private").resolve("control");
    }

    private static String value(ConfigSnapshot s, String name, String fallback) {
        return s.get(name).map(String::trim).filter(v -> !v.isEmpty()).orElse(fallback);
    }

    private static Path path(ConfigSnapshot s, String name, Path fallback, Path var) {
        String v = value(s, name, null);
        return v == null ? fallback : var.resolve(v).toAbsolutePath().normalize();
    }
}
