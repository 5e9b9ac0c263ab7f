package org.estafeta.api.table;

import org.estafeta.api.plugin.PluginContext;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Provides one lookup-table type. Register an implementation as an OSGi service with the service property
 * {@value #TYPE} set to the type name used in main.cf (for example {@code json} for {@code json:/path}).
 *
 * <p>When the bundle is absent, a configuration that names the type fails with an error naming the parameter
 * and the type; when it appears, tables of that type open without a restart.
 *
 * <p><b>Threading:</b> {@link #open} may be called from any thread, several times for different tables.
 * <b>Blocking:</b> allowed (it runs on a worker thread).
 */
@ConsumerType
public interface LookupTableFactory {
    /** Service property naming the table type. */
    String TYPE = "estafeta.table.type";

    /**
     * Opens the table {@code spec.name()}.
     *
     * @throws TableOpenException when the table cannot be opened; the message must name the table and the cause
     */
    LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException;
}
