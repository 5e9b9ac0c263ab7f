package org.estafeta.api.table;

/**
 * An open lookup table, such as the one main.cf names with {@code transport_maps = json:/etc/estafeta/transport.json}.
 *
 * <p><b>Threading:</b> one instance is shared by every session and delivery, so {@link #lookup} must be safe to
 * call from many threads at once. <b>Blocking:</b> lookups are called on the gateway's worker pool, never on a
 * network event loop, so they may do file or network I/O; they should bound their own waits (a table that waits
 * forever holds a worker forever).
 *
 * <p><b>Errors:</b> {@code lookup} reports failures as {@link LookupResult.TemporaryFailure}. An unchecked exception
 * escaping {@code lookup} is treated the same way and logged as a bug in the plugin.
 */
public interface LookupTable extends AutoCloseable {
    /**
     * Looks up one key. Keys arrive as the caller builds them (Postfix's rules for case folding and for trying
     * {@code user@domain}, {@code domain}, {@code @domain} in turn belong to the caller, not the table).
     */
    LookupResult lookup(String key);

    /** Releases what the table holds (files, connections). Called once, when no more lookups will be made. */
    @Override
    default void close() {
    }
}
