package org.estafeta.table.regexp;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/** Provides the {@code regexp:} lookup-table type (Postfix's regexp_table(5)): {@code header_checks = regexp:/etc/estafeta/header_checks}. */
@Component(property = LookupTableFactory.TYPE + "=regexp")
public class RegexpTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        return PatternTableFactories.open(Dialect.REGEXP, spec, context);
    }
}
