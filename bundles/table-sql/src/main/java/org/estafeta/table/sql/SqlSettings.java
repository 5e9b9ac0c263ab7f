package org.estafeta.table.sql;

/**
 * What a connection needs besides its endpoint. {@code password} is never logged.
 *
 * @param table the table, {@code pgsql:/etc/x.cf}, for naming connections
 * @param connectTimeout seconds allowed to connect and log in
 * @param queryTimeout seconds allowed for one query
 */
record SqlSettings(String table, String user, String password, String dbname, int connectTimeout, int queryTimeout,
        boolean requireResultSet) {
    @Override
    public String toString() {
        return "SqlSettings[user=" + user + ", dbname=" + dbname + "]";
    }
}
