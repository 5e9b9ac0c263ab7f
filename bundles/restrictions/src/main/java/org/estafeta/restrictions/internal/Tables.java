package org.estafeta.restrictions.internal;

import java.util.LinkedHashMap;
import java.util.Map;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.tables.TableService;
import org.estafeta.tables.UnsupportedTableTypeException;
import org.slf4j.Logger;

/**
 * The tables one evaluation uses, opened through the {@link TableService} on first use and closed when the
 * evaluation ends (each handle is ours; the shared table stays open for others).
 */
final class Tables implements AutoCloseable {
    /**
     * Table types whose keys are patterns (Postfix's DICT_FLAG_PATTERN): they see only the full key of a lookup,
     * never the partial keys (parent domains, shorter network prefixes, {@code user@}), and keys are not folded.
     */

    private static final String PROXY = "proxy:";
    /** What a {@code nis:} table is while no bundle provides the type. */
    private static final Object NO_NIS = new Object();

    private final TableService service;
    private final Logger log;
    private final Map<String, Object> open = new LinkedHashMap<>();

    Tables(TableService service, Logger log) {
        this.service = service;
        this.log = log;
    }

    /** Postfix's pattern tables (regexp, pcre, cidr, socketmap ...; proxy: and composites included): the tables service's rule. */
    static boolean isPattern(String spec) {
        return org.estafeta.tables.TableNames.isPattern(spec);
    }

    /**
     * Looks {@code key} up in {@code spec}. A partial key (parent domain, network prefix, {@code user@}) is not
     * asked of pattern tables, as Postfix's DICT_FLAG_FIXED. Keys are folded to lower case for fixed-string tables.
     * A table that cannot be opened answers every lookup with a temporary failure (and says why, once).
     * {@code proxy:type:name} is {@code type:name} (Postfix's proxymap asks the same table in another process);
     * a {@code nis:} table without a bundle for the type finds nothing, as Postfix's without an NIS domain.
     */
    LookupResult lookup(String spec, String key, boolean partial) {
        if (spec.regionMatches(true, 0, PROXY, 0, PROXY.length())) {
            spec = spec.substring(PROXY.length());
        }
        boolean pattern = isPattern(spec);
        if (partial && pattern) {
            return LookupResult.notFound();
        }
        Object table = open.computeIfAbsent(spec, this::openTable);
        if (table instanceof LookupTable t) {
            return t.lookup(pattern ? key : HostNames.lower(key));
        }
        if (table == NO_NIS) {
            return LookupResult.notFound();
        }
        return LookupResult.temporaryFailure((String) table);
    }

    private Object openTable(String spec) {
        if (service == null) {
            log.warn("{}: table lookups are unavailable: the tables bundle is not running", spec);
            return spec + ": no table service";
        }
        try {
            return service.open(spec);
        } catch (UnsupportedTableTypeException e) {
            if (e.type().equals("nis")) {
                log.debug("{}: NIS domain name not set - NIS lookups disabled", spec);
                return NO_NIS;
            }
            log.warn("{}: {}", spec, e.getMessage());
            return spec + ": " + e.getMessage();
        } catch (TableOpenException | RuntimeException e) {
            log.warn("{}: {}", spec, e.getMessage());
            return spec + ": " + e.getMessage();
        }
    }

    @Override
    public void close() {
        for (Object t : open.values()) {
            if (t instanceof LookupTable table) {
                try {
                    table.close();
                } catch (RuntimeException e) {
                    log.warn("closing a table handle: {}", e.toString());
                }
            }
        }
        open.clear();
    }
}
