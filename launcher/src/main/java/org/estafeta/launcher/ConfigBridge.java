package org.estafeta.launcher;

import java.io.PrintStream;
import java.nio.file.Path;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigLoader;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.postconf.Postconf;

/**
 * The two entry points of the config jar (on the launcher class path) that the launcher calls offline, before
 * or without a framework: reading main.cf/master.cf, and postconf.
 */
final class ConfigBridge {
    private ConfigBridge() {
    }

    /** Reads main.cf and master.cf of {@code confDir}. */
    static ConfigSnapshot load(Path confDir, Path varDir) throws ConfigException {
        return ConfigLoader.load(confDir, varDir);
    }

    /** Reads main.cf best-effort, skipping what is broken: only for finding a running gateway. */
    static ConfigSnapshot loadLeniently(Path confDir, Path varDir) throws ConfigException {
        return ConfigLoader.loadLeniently(confDir, varDir);
    }

    /** Runs postconf with the command's arguments; returns its exit status. */
    static int postconf(String[] args, PrintStream out, PrintStream err, Path defaultConfDir, Path varDir) {
        return Postconf.run(args, out, err, defaultConfDir, varDir);
    }
}
