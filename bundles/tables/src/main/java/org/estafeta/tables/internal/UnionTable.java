package org.estafeta.tables.internal;

import java.util.List;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;

/**
 * {@code unionmap:{type:name, ...}} (Postfix 3.0, dict_union.c): asks every table in order and joins the values
 * found with commas; not found when no table finds the key. The first temporary failure ends the lookup as a
 * temporary failure (a partial union is never answered).
 *
 * <p><b>Threading:</b> safe from any thread (the inner handles are). <b>Blocking:</b> as much as the slowest
 * inner table. <b>Errors:</b> never throws; {@link #close} releases the inner handles.
 */
final class UnionTable implements LookupTable {
    private final String spec;
    private final List<LookupTable> tables;

    UnionTable(String spec, List<LookupTable> tables) {
        this.spec = spec;
        this.tables = List.copyOf(tables);
    }

    @Override
    public LookupResult lookup(String key) {
        StringBuilder joined = new StringBuilder();
        for (LookupTable table : tables) {
            LookupResult r = table.lookup(key);
            if (r instanceof LookupResult.Found found) {
                // as dict_union.c: a comma only after text, so empty values leave no trace
                if (joined.length() > 0) {
                    joined.append(',');
                }
                joined.append(found.value());
            } else if (r instanceof LookupResult.TemporaryFailure) {
                return r;
            }
        }
        // Postfix answers "not found" when the joined text is empty (only empty values were found)
        return joined.length() == 0 ? LookupResult.notFound() : LookupResult.found(joined.toString());
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
