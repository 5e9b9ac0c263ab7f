package org.estafeta.tables.internal;

import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.tables.TableNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the composite types the registry provides itself, {@code unionmap:} and {@code pipemap:}: their inner
 * tables are opened through the registry (so they share the cache, follow their bundles, and may be composites or
 * {@code proxy:} themselves), and the composite owns one handle on each. Nothing is cached at this level: each
 * open returns a fresh composite over fresh handles, so a reload or a departing bundle reaches composites the
 * same way it reaches plain handles.
 */
final class Composites {
    private static final Logger log = LoggerFactory.getLogger(TableRegistry.LOGGER);

    /** Opens one table reference; the registry's own {@code open}. */
    interface Opener {
        LookupTable open(String spec) throws TableOpenException;
    }

    private Composites() {
    }

    static boolean isComposite(String type) {
        return type.equals(TableNames.UNIONMAP) || type.equals(TableNames.PIPEMAP);
    }

    /**
     * Opens {@code type:name} ({@code unionmap} or {@code pipemap}). An inner table that cannot be opened fails
     * the whole composite with that table's exception (an {@link org.estafeta.tables.UnsupportedTableTypeException}
     * for a type nobody provides), after the handles already taken are released.
     */
    static LookupTable open(String type, String name, Opener opener) throws TableOpenException {
        String spec = type + ":" + name;
        List<String> elements = TableList.parse(name)
                .orElseThrow(() -> new TableOpenException(TableList.syntaxError(type, name)));
        List<LookupTable> opened = new ArrayList<>(elements.size());
        try {
            for (String element : elements) {
                opened.add(opener.open(element));
            }
        } catch (TableOpenException | RuntimeException e) {
            closeAll(opened);
            throw e;
        }
        return type.equals(TableNames.UNIONMAP) ? new UnionTable(spec, opened) : new PipeTable(spec, opened);
    }

    static void closeAll(List<LookupTable> tables) {
        for (LookupTable t : tables) {
            try {
                t.close();
            } catch (RuntimeException e) {
                log.warn("{}: error while closing: {}", t, e.toString());
            }
        }
    }
}
