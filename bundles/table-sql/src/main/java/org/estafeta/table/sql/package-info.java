/**
 * The {@code pgsql:}, {@code mysql:} and {@code sqlite:} lookup-table types: Postfix's pgsql_table(5),
 * mysql_table(5) and sqlite_table(5) configuration files over JDBC drivers embedded in this bundle.
 */
package org.estafeta.table.sql;
