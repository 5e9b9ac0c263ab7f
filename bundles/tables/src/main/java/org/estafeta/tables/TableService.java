package org.estafeta.tables;

import java.util.List;
import java.util.Set;

import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.config.ConfigSnapshot;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Opens lookup tables by their main.cf name ({@code hash:/etc/estafeta/transport}) through the
 * {@link LookupTableFactory} service registered with {@code estafeta.table.type=<type>}. Types come and go with
 * their bundles; the service follows them without a restart.
 *
 * <p><b>Sharing and closing:</b> one table is opened per {@code type:name} and shared by every caller. Each
 * {@link #open} returns the caller's own handle; {@link LookupTable#close() closing} the handle says "I am done"
 * and never closes the table under another caller. The shared table is closed when it has been retired (its
 * factory went away, or a reload published a new configuration) and the last handle on it is closed, so work in
 * flight keeps the table it started with. Lookups through a handle never throw: an exception escaping the
 * plugin becomes a {@link org.estafeta.api.table.LookupResult.TemporaryFailure} and is logged as a plugin bug.
 *
 * <p><b>Composite and proxied tables:</b> {@code proxy:type:name} opens {@code type:name} in-process (there is
 * no proxymap process; the table is shared anyway). {@code unionmap:{type:name, ...}} joins the values its tables
 * find with commas; {@code pipemap:{type:name, ...}} feeds each value to the next table as its key. Their tables are
 * opened through this service; a temporary failure of any of them is a temporary failure of the composite, and a
 * type nobody provides fails the open with {@link UnsupportedTableTypeException} naming that type.
 *
 * <p><b>Threading:</b> every method may be called from any thread. {@link #open} may block while a factory
 * opens a table (file or network I/O), so never call it on a network event loop.
 */
@ProviderType
public interface TableService {
    /**
     * Opens {@code spec} ({@code type:name}).
     *
     * @throws UnsupportedTableTypeException when no installed bundle registers the type (a configuration error)
     * @throws TableOpenException when the spec is malformed or the factory could not open the table; callers treat
     *         lookups in it as temporary failures until it opens
     */
    LookupTable open(String spec) throws TableOpenException;

    /**
     * The table types available right now, sorted: those registered by bundles and those the service provides
     * itself ({@code proxy}, {@code unionmap}, {@code pipemap}).
     */
    Set<String> types();

    /**
     * The table references in {@code snapshot} whose type no installed bundle provides, one line each, naming
     * the file, the parameter and the type, for example
     * {@code main.cf: transport_maps: unsupported dictionary type: json: no installed bundle registers estafeta.table.type=json}.
     * Empty when every referenced type is present. Parameters checked: those ending in {@code _maps} or
     * {@code _checks}, and the argument of every {@code check_*_access} in restriction lists
     * ({@code *_restrictions} and the classes of {@code smtpd_restriction_classes}), in main.cf and in master.cf
     * {@code -o} overrides. {@code proxy:type:name} is checked as {@code type:name}, and the tables inside
     * {@code unionmap:{...}} and {@code pipemap:{...}} one by one.
     */
    List<String> problems(ConfigSnapshot snapshot);
}
