package org.estafeta.tables.internal;

import java.util.List;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;

/**
 * {@code pipemap:{type:name, ...}} (Postfix 3.0, dict_pipe.c): the key goes to the first table, each value found
 * becomes the key of the next table, and the last table's value is the answer. Not found as soon as one table
 * does not find its key; a temporary failure of any table is the answer's.
 *
 * <p><b>Threading:</b> safe from any thread (the inner handles are). <b>Blocking:</b> the sum of the inner
 * lookups. <b>Errors:</b> never throws; {@link #close} releases the inner handles.
 */
final class PipeTable implements LookupTable {
    private final String spec;
    private final List<LookupTable> tables;

    PipeTable(String spec, List<LookupTable> tables) {
        this.spec = spec;
        this.tables = List.copyOf(tables);
    }

    @Override
    public LookupResult lookup(String key) {
        LookupResult r = null;
        String query = key;
        for (LookupTable table : tables) {
            r = table.lookup(query);
            if (!(r instanceof LookupResult.Found found)) {
                return r;
            }
            query = found.value();
        }
        return r;
    }

    @Override
    public void close() {
        Composites.closeAll(tables);
    }

    @Override
    public String toString() {
        return spec;
    }
}
