package org.estafeta.table.sql;

import org.estafeta.api.table.LookupTableFactory;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code pgsql:} lookup-table type (Postfix's pgsql_table(5)), for example
 * {@code virtual_alias_maps = pgsql:/etc/estafeta/pgsql-aliases.cf}. The PostgreSQL JDBC driver travels inside
 * this bundle. See {@link SqlTableFactory} and {@link SqlTable} for threading, blocking and errors.
 */
@Component(service = LookupTableFactory.class, property = LookupTableFactory.TYPE + "=pgsql")
public class PgsqlTableFactory extends SqlTableFactory {
    public PgsqlTableFactory() {
        super(SqlDialect.PGSQL);
    }

    @Activate
    void activate(BundleContext bundle) {
        tableTypes(bundle);
    }
}
