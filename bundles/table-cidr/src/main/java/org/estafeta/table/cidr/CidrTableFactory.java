package org.estafeta.table.cidr;

import org.estafeta.table.support.FileTable;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code cidr:} lookup-table type (Postfix's cidr_table(5)), for example
 * {@code check_client_access cidr:/etc/estafeta/client.cidr}. The file is read into memory and read again when
 * it changes; malformed rules are skipped with Postfix's warning naming the file and line.
 */
@Component(property = LookupTableFactory.TYPE + "=cidr")
public class CidrTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        System.Logger log = context.logger();
        FileTable<CidrRules> table = FileTable.open(spec, context,
                text -> CidrRules.parse(spec.name(), text, w -> log.log(System.Logger.Level.WARNING, w)),
                CidrRules::lookup, why -> why);
        log.log(System.Logger.Level.INFO, spec + ": opened, " + table.contents().size() + " rules");
        return table;
    }
}
