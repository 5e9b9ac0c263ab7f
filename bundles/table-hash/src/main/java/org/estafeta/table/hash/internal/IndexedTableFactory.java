package org.estafeta.table.hash.internal;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.table.hash.IndexedTable;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the indexed-file types {@code hash:}, {@code btree:}, {@code cdb:} and {@code lmdb:}: one index format
 * for all four, built by {@code estafeta postmap} ({@code FILE.db}, {@code FILE.cdb}, {@code FILE.lmdb}).
 */
@Component(property = {LookupTableFactory.TYPE + "=hash", LookupTableFactory.TYPE + "=btree",
        LookupTableFactory.TYPE + "=cdb", LookupTableFactory.TYPE + "=lmdb"})
public class IndexedTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        System.Logger log = context.logger();
        IndexedTable table = IndexedTable.open(spec, context.clock(), w -> log.log(System.Logger.Level.WARNING, w));
        log.log(System.Logger.Level.INFO, spec + ": opened, " + table.index().size() + " entries");
        return table;
    }
}
