package org.estafeta.table.sql;

import org.estafeta.api.table.LookupTableFactory;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code sqlite:} lookup-table type (Postfix's sqlite_table(5)), for example
 * {@code virtual_alias_maps = sqlite:/etc/estafeta/sqlite-aliases.cf}. The SQLite JDBC driver (with its native library, unpacked to a temporary directory at first use) travels inside
 * this bundle. See {@link SqlTableFactory} and {@link SqlTable} for threading, blocking and errors.
 */
@Component(service = LookupTableFactory.class, property = LookupTableFactory.TYPE + "=sqlite")
public class SqliteTableFactory extends SqlTableFactory {
    public SqliteTableFactory() {
        super(SqlDialect.SQLITE);
    }

    @Activate
    void activate(BundleContext bundle) {
        tableTypes(bundle);
    }
}
