package org.estafeta.config;

import java.util.function.Consumer;

/**
 * The configuration service. It reads {@code main.cf} and {@code master.cf} from the directory named by the
 * framework property {@value #CONFIG_DIRECTORY_PROPERTY} and always holds a usable snapshot.
 */
public interface ConfigSource {
    /** Framework property: absolute path of the configuration directory (the {@code -c} of the command line). */
    String CONFIG_DIRECTORY_PROPERTY = "estafeta.config_directory";
    /** Framework property: absolute path of the data directory, the built-in default of {@code estafeta_var_directory}. */
    String VAR_DIRECTORY_PROPERTY = "estafeta.var_directory";

    /** The current snapshot. Never null. */
    ConfigSnapshot current();

    /**
     * Reads the files again. On success the new snapshot becomes current atomically and is returned, and every
     * listener is told. On failure the old snapshot stays current and the exception names file and line.
     */
    ConfigSnapshot reload() throws ConfigException;

    /** Calls {@code listener} with every snapshot that becomes current after this call, until it is removed. */
    void addListener(Consumer<ConfigSnapshot> listener);

    void removeListener(Consumer<ConfigSnapshot> listener);
}
