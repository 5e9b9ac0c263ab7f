package org.estafeta.config;

import java.nio.file.Path;

import org.estafeta.config.internal.Loader;

/**
 * Reads a configuration directory without OSGi: the launcher's offline commands ({@code estafeta postconf}, the
 * check before start) put the config jar on their class path and call this.
 */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    /**
     * Reads {@code configDir/main.cf} and {@code configDir/master.cf} into a snapshot of generation 1.
     *
     * @param configDir the directory holding main.cf and master.cf
     * @param varDir the data directory (the built-in default of {@code estafeta_var_directory})
     * @return the snapshot; its {@link ConfigSnapshot#warnings()} list what the caller should log
     * @throws ConfigException when a file cannot be read or is malformed; the message names file and line
     */
    public static ConfigSnapshot load(Path configDir, Path varDir) throws ConfigException {
        return Loader.load(configDir.toAbsolutePath().normalize(), varDir.toAbsolutePath().normalize(), 1, null);
    }

    /**
     * A best-effort reading of main.cf for commands that only need to find a running gateway (its queue directory
     * and control socket) while the file is broken: lines that do not parse and settings caught in an expansion
     * loop are left out. Nothing may run on this snapshot; {@link #load} is the only reading a gateway acts on.
     *
     * @throws ConfigException only when main.cf cannot be read at all
     */
    public static ConfigSnapshot loadLeniently(Path configDir, Path varDir) throws ConfigException {
        return Loader.loadLeniently(configDir.toAbsolutePath().normalize(), varDir.toAbsolutePath().normalize());
    }
}
