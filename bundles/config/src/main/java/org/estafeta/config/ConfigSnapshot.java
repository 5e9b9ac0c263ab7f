package org.estafeta.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One immutable reading of main.cf and master.cf. Sessions and deliveries take the current snapshot when they
 * start and keep it to the end; a reload publishes a new snapshot and never changes an old one.
 */
public interface ConfigSnapshot {
    /** The directory holding main.cf and master.cf (Postfix's {@code config_directory}, {@code -c DIR}). */
    Path configDirectory();

    /** Increases by one with every successful load; the first load is 1. */
    long generation();

    /**
     * The effective value of a parameter with {@code $name}, {@code ${name}}, {@code ${name?text}} and
     * {@code ${name:text}} expanded, as {@code postconf -x} prints it: the main.cf value if set, else the
     * built-in default. Empty for an unknown parameter that main.cf does not set.
     */
    Optional<String> get(String name);

    /** {@link #get} for a parameter that has a built-in default; throws {@link IllegalArgumentException} if it has none. */
    String value(String name);

    /** The value as written in main.cf (or the default as Postfix writes it), unexpanded, as {@code postconf} prints it. */
    Optional<String> raw(String name);

    /** Whether main.cf sets this parameter explicitly (what {@code postconf -n} prints). */
    boolean isExplicit(String name);

    /** Parameter value as a boolean ({@code yes}/{@code no}, as Postfix); throws naming the parameter otherwise. */
    boolean bool(String name);

    /** Parameter value as an integer; throws naming the parameter when it is not one. */
    long integer(String name);

    /** Parameter value as seconds, accepting Postfix's time units ({@code s m h d w}; the default unit per parameter). */
    long seconds(String name);

    /** Parameter value split on white space and commas, as Postfix splits lists. */
    List<String> list(String name);

    /** The names main.cf sets explicitly, sorted, as {@code postconf -n} lists them. */
    List<String> explicitNames();

    /** The master.cf entries in file order. */
    List<MasterEntry> services();

    /**
     * A snapshot for one master.cf entry: this snapshot with the entry's {@code -o name=value} overrides applied
     * on top, expansion included (an override of {@code myhostname} changes {@code $myhostname} everywhere in it).
     */
    ConfigSnapshot forService(MasterEntry entry);

    /** Warnings found while loading (unused or not-yet-supported parameters), each naming file, line and parameter. */
    List<ConfigWarning> warnings();

    /** The built-in parameter map exposed as a flat view, mostly for diagnostics: name to expanded value. */
    Map<String, String> effectiveValues();
}
