package org.estafeta.table.simple;

import org.estafeta.table.support.FileTable;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code texthash:} type: {@code texthash:/etc/estafeta/access} reads the postmap(1) source file
 * itself (no index is built) and reads it again when it changes.
 */
@Component(property = LookupTableFactory.TYPE + "=texthash")
public class TextHashTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        System.Logger log = context.logger();
        FileTable<TextHash> table = FileTable.open(spec, context,
                text -> TextHash.parse(spec.name(), text, w -> log.log(System.Logger.Level.WARNING, w)),
                TextHash::get, why -> why.replaceFirst("^open ", "open database "));
        log.log(System.Logger.Level.INFO, spec + ": opened, " + table.contents().size() + " entries");
        return table;
    }
}
