package org.estafeta.api.plugin;

import java.time.Clock;
import java.util.Optional;

/**
 * The small, explicit context the gateway hands a plugin: a logger whose lines go to the maillog in Postfix's
 * shape, the plugin's own parameters from main.cf, and a clock (tests replace it). Nothing else of the core
 * is reachable from here, on purpose.
 *
 * <p>A context belongs to one configuration snapshot. When the operator reloads, plugins get a new context
 * for new work; work in flight keeps the one it started with.
 */
public interface PluginContext {
    /** Logger for this plugin; {@code WARNING} lines appear as {@code warning: ...} in the maillog. */
    System.Logger logger();

    /**
     * A parameter of main.cf with {@code $name} expansion applied, or empty when it is neither set in main.cf
     * nor has a built-in default. Plugins should name their own parameters with a prefix of their own
     * (for example {@code json_table_}), so that nobody mistakes them for Postfix's.
     */
    Optional<String> parameter(String name);

    /** The clock to use instead of {@link System#currentTimeMillis()}. */
    Clock clock();
}
