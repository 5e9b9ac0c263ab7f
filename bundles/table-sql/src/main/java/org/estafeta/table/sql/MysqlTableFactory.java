package org.estafeta.table.sql;

import org.estafeta.api.table.LookupTableFactory;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code mysql:} lookup-table type (Postfix's mysql_table(5)), for example
 * {@code virtual_alias_maps = mysql:/etc/estafeta/mysql-aliases.cf}. The MariaDB JDBC driver (which speaks to MySQL too) travels inside
 * this bundle. See {@link SqlTableFactory} and {@link SqlTable} for threading, blocking and errors.
 */
@Component(service = LookupTableFactory.class, property = LookupTableFactory.TYPE + "=mysql")
public class MysqlTableFactory extends SqlTableFactory {
    public MysqlTableFactory() {
        super(SqlDialect.MYSQL);
    }

    @Activate
    void activate(BundleContext bundle) {
        tableTypes(bundle);
    }
}
