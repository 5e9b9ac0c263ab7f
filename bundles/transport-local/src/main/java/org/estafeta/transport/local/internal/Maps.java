package org.estafeta.transport.local.internal;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.config.ConfigValues;
import org.estafeta.tables.TableService;
import org.estafeta.tables.UnsupportedTableTypeException;

/**
 * The tables of one {@code *_maps} parameter for one delivery, opened through the {@link TableService} on first use
 * and closed with the delivery (the service shares the open table between callers). Keys are folded to lower case for
 * fixed-string tables; pattern tables ({@code regexp}, {@code pcre}) get the key as it is and no partial keys, as
 * Postfix's maps_find() does.
 *
 * <p>A {@code nis:} table with no bundle for the type is skipped, as Postfix skips NIS when no NIS domain is set
 * ({@code NIS domain name not set - NIS lookups disabled}): Postfix's own default {@code alias_maps} names one.
 */
final class Maps implements AutoCloseable {
    private static final Set<String> PATTERN_TYPES = Set.of("regexp", "pcre", "cidr", "posix-regexp");

    /** A lookup's outcome: a value (and the table it came from), nothing, or a failure of the named table. */
    record Found(String value, String table, String failure) {
        boolean found() {
            return value != null;
        }

        boolean failed() {
            return failure != null;
        }
    }

    private final TableService service;
    private final PluginContext context;
    private final String parameter;
    private final List<String> specs;
    private final Map<String, LookupTable> open = new LinkedHashMap<>();

    Maps(TableService service, PluginContext context, String parameter) {
        this.service = service;
        this.context = context;
        this.parameter = parameter;
        this.specs = ConfigValues.list(context.parameter(parameter).orElse(""));
    }

    boolean isEmpty() {
        return specs.isEmpty();
    }

    String title() {
        return parameter;
    }

    /**
     * Looks {@code key} up in each table in turn.
     *
     * @param partial a derived key (without extension, {@code @domain}): not asked of pattern tables
     */
    Found find(String key, boolean partial) {
        for (String spec : specs) {
            boolean pattern = PATTERN_TYPES.contains(spec.substring(0, Math.max(0, spec.indexOf(':'))).toLowerCase(Locale.ROOT));
            if (partial && pattern) {
                continue;
            }
            LookupTable table;
            try {
                table = table(spec);
            } catch (UnsupportedTableTypeException e) {
                if (e.type().equals("nis")) {
                    continue;
                }
                return new Found(null, spec, e.getMessage());
            } catch (TableOpenException | RuntimeException e) {
                return new Found(null, spec, e.getMessage());
            }
            LookupResult r = table.lookup(pattern ? key : key.toLowerCase(Locale.ROOT));
            if (r instanceof LookupResult.Found f) {
                return new Found(f.value(), spec, null);
            }
            if (r instanceof LookupResult.TemporaryFailure t) {
                return new Found(null, spec, t.reason());
            }
        }
        return new Found(null, null, null);
    }

    private LookupTable table(String spec) throws TableOpenException {
        LookupTable t = open.get(spec);
        if (t == null) {
            try {
                t = service.open(spec);
            } catch (UnsupportedTableTypeException e) {
                if (e.type().equals("nis")) {
                    context.logger().log(Level.DEBUG, "{0}: NIS domain name not set - NIS lookups disabled", spec);
                }
                throw e;
            }
            open.put(spec, t);
        }
        return t;
    }

    @Override
    public void close() {
        for (LookupTable t : new ArrayList<>(open.values())) {
            t.close();
        }
        open.clear();
    }
}
