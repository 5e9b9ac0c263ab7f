package org.estafeta.rewrite.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.tables.TableService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tables one configuration generation uses, opened through the {@link TableService} on first use and shared by
 * every resolve of that generation. A table that cannot be opened answers a temporary failure and is tried again on
 * the next lookup. {@link #release() Released} by its last user after it was {@link #retire() retired} (a newer
 * generation arrived), it closes its handles.
 *
 * <p>Keys follow Postfix's maps_find(): fixed-string tables get keys folded to lower case (DICT_FLAG_FOLD_FIX), pattern
 * tables ({@code regexp}, {@code pcre}, {@code cidr}) get the key as it is and are never asked partial keys (parent
 * domains, {@code @domain}, the extension-stripped address), as DICT_FLAG_FIXED.
 */
final class Tables {
    private static final Logger log = LoggerFactory.getLogger("rewrite");
    /** Postfix's pattern table types (those without DICT_FLAG_FIXED). */

    final long generation;
    private final TableService service;
    private final Map<String, LookupTable> open = new ConcurrentHashMap<>();
    private int users;
    private boolean retired;
    private boolean closed;

    Tables(long generation, TableService service) {
        this.generation = generation;
        this.service = service;
    }

    /** Postfix's pattern tables (regexp, pcre, cidr, socketmap ...; proxy: and composites included): the tables service's rule. */
    static boolean isPattern(String spec) {
        return org.estafeta.tables.TableNames.isPattern(spec);
    }

    /**
     * Looks {@code key} up in {@code spec} ({@code type:name}).
     *
     * @param partial a derived key (parent domain, {@code @domain}, address without extension): not asked of
     *        pattern tables
     */
    LookupResult lookup(String spec, String key, boolean partial) {
        boolean pattern = isPattern(spec);
        if (partial && pattern) {
            return LookupResult.notFound();
        }
        LookupTable table = open.get(spec);
        if (table == null) {
            try {
                table = open.computeIfAbsent(spec, this::openTable);
            } catch (OpenFailed e) {
                return LookupResult.temporaryFailure(e.getMessage());
            }
        }
        return table.lookup(pattern ? key : key.toLowerCase(Locale.ROOT));
    }

    private LookupTable openTable(String spec) {
        try {
            return service.open(spec);
        } catch (TableOpenException | RuntimeException e) {
            log.warn("{}: {}", spec, e.getMessage());
            throw new OpenFailed(spec + ": " + e.getMessage());
        }
    }

    /** One more resolve uses these tables. */
    synchronized void acquire() {
        users++;
    }

    /** A resolve is done with these tables; closes them if retired and this was the last user. */
    void release() {
        synchronized (this) {
            users--;
            if (!retired || users > 0 || closed) {
                return;
            }
            closed = true;
        }
        closeAll();
    }

    /** A newer generation took over: close once the last user is gone. */
    void retire() {
        synchronized (this) {
            retired = true;
            if (users > 0 || closed) {
                return;
            }
            closed = true;
        }
        closeAll();
    }

    /** How many tables are open (tests). */
    int openCount() {
        return open.size();
    }

    private void closeAll() {
        List<LookupTable> all = new ArrayList<>(open.values());
        open.clear();
        for (LookupTable t : all) {
            try {
                t.close();
            } catch (RuntimeException e) {
                log.warn("closing {}: {}", t, e.toString());
            }
        }
    }

    private static final class OpenFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OpenFailed(String message) {
            super(message, null, false, false);
        }
    }
}
