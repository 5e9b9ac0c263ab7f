package org.estafeta.table.sql;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.estafeta.api.table.TableOpenException;

/**
 * What differs between the three SQL table types: how a {@code hosts} entry reads, how to connect (the driver
 * class is instantiated directly, so the driver inside this bundle is used whatever {@code DriverManager} sees),
 * how a value is escaped for the query text (exactly as the C client library Postfix uses), and how a result
 * set becomes values. Stateless; thread-safe.
 */
abstract class SqlDialect {
    /** The escaping of one connection, and the connection. */
    record Session(Connection connection, Expansions.Quoter quoter) {
    }

    final String type;

    private SqlDialect(String type) {
        this.type = type;
    }

    /** Parses one {@code hosts} entry as Postfix's {@code host_init} does. */
    abstract Endpoint endpoint(String text) throws TableOpenException;

    /** Connects and learns the escaping; bounded by {@code settings.connectTimeout()}. */
    abstract Session connect(Endpoint endpoint, SqlSettings settings) throws SQLException;

    /**
     * Runs {@code sql} and returns the values Postfix would expand, row by row and column by column; a
     * {@code null} is a value Postfix skips silently.
     */
    abstract List<String> values(Statement st, String sql, SqlSettings settings) throws SQLException;

    /** The warning Postfix prints when a connection cannot be made. */
    String connectFailure(Endpoint e, String why) {
        return "connect to " + type + " server " + e.text() + ": " + why;
    }

    /** The warning Postfix prints when a query fails (without the table's name in front). */
    abstract String queryFailure(Endpoint e, String why);

    static final SqlDialect PGSQL = new SqlDialect("pgsql") {
        @Override
        Endpoint endpoint(String text) {
            String d = text;
            if (d.startsWith("unix:") || d.startsWith("inet:")) {
                d = d.substring(5);
            }
            if (d.isEmpty() || d.charAt(0) == '/') {
                // libpq: a directory holding the socket .s.PGSQL.5432
                return new Endpoint(text, true, d.isEmpty() ? "/var/run/postgresql" : d, 5432);
            }
            int colon = d.lastIndexOf(':');
            if (colon < 0) {
                return new Endpoint(text, false, d, 5432);
            }
            return new Endpoint(text, false, d.substring(0, colon), port(d.substring(colon + 1), 5432));
        }

        @Override
        Session connect(Endpoint e, SqlSettings s) throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", s.user());
            if (!s.password().isEmpty()) {
                p.setProperty("password", s.password());
            }
            p.setProperty("connectTimeout", Integer.toString(s.connectTimeout()));
            p.setProperty("loginTimeout", Integer.toString(s.connectTimeout()));
            p.setProperty("socketTimeout", Integer.toString(s.connectTimeout() + s.queryTimeout()));
            p.setProperty("tcpKeepAlive", "true");
            p.setProperty("ApplicationName", applicationName(s));
            String host = e.host();
            int port = e.port();
            if (e.unix()) {
                p.setProperty("socketFactory", UnixSocketFactory.class.getName());
                port = UnixSocketFactory.register(Path.of(e.host(), ".s.PGSQL." + e.port()));
                host = "localhost";
            }
            String url = "jdbc:postgresql://" + host + ":" + port + "/"
                    + URLEncoder.encode(s.dbname(), StandardCharsets.UTF_8).replace("+", "%20");
            Connection c = new org.postgresql.Driver().connect(url, p);
            boolean standard = c.unwrap(org.postgresql.core.BaseConnection.class).getStandardConformingStrings();
            return new Session(c, (raw, out) -> {
                try {
                    // PQescapeStringConn: quotes doubled, backslashes too unless standard_conforming_strings
                    org.postgresql.core.Utils.escapeLiteral(out, raw, standard);
                } catch (SQLException impossible) {
                    // only for NUL, which keys never reach (SqlTable refuses them)
                    throw new IllegalArgumentException(impossible);
                }
            });
        }

        @Override
        List<String> values(Statement st, String sql, SqlSettings settings) throws SQLException {
            List<String> out = new ArrayList<>();
            if (st.execute(sql)) {
                try (ResultSet rs = st.getResultSet()) {
                    int columns = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        for (int i = 1; i <= columns; i++) {
                            String v = rs.getString(i);
                            out.add(v == null ? "" : v); // libpq's PQgetvalue gives "" for NULL
                        }
                    }
                }
            }
            return out;
        }

        @Override
        String queryFailure(Endpoint e, String why) {
            return "pgsql query failed: fatal error from host " + e.text() + ": " + why;
        }
    };

    static final SqlDialect MYSQL = new SqlDialect("mysql") {
        /** The Debian client library's default socket, used for {@code localhost}. */
        static final String DEFAULT_SOCKET = "/run/mysqld/mysqld.sock";

        @Override
        Endpoint endpoint(String text) throws TableOpenException {
            String d = text;
            boolean unix = false;
            if (d.startsWith("unix:")) {
                d = d.substring(5);
                unix = true;
            } else if (d.startsWith("inet:")) {
                d = d.substring(5);
            }
            int port = 3306;
            int colon = d.lastIndexOf(':');
            if (colon >= 0) {
                String service = d.substring(colon + 1);
                port = port(service, -1);
                if (port < 0) {
                    if (!service.equals("mysql")) {
                        throw new TableOpenException("unknown service: " + service + "/tcp");
                    }
                    port = 3306;
                }
                d = d.substring(0, colon);
            }
            if (d.equalsIgnoreCase("localhost")) {
                return new Endpoint(text, true, DEFAULT_SOCKET, port); // as libmysqlclient does
            }
            return new Endpoint(text, unix, d, port);
        }

        @Override
        Session connect(Endpoint e, SqlSettings s) throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", s.user());
            if (!s.password().isEmpty()) {
                p.setProperty("password", s.password());
            }
            p.setProperty("connectTimeout", Integer.toString(s.connectTimeout() * 1000));
            p.setProperty("socketTimeout", Integer.toString((s.connectTimeout() + s.queryTimeout()) * 1000));
            p.setProperty("tcpKeepAlive", "true");
            p.setProperty("allowMultiQueries", "false");
            String host = e.host();
            int port = e.port();
            if (e.unix()) {
                p.setProperty("socketFactory", UnixSocketFactory.class.getName());
                port = UnixSocketFactory.register(Path.of(e.host()));
                host = "localhost";
            }
            Connection c = new org.mariadb.jdbc.Driver().connect("jdbc:mariadb://" + host + ":" + port + "/"
                    + s.dbname(), p);
            if (c == null) {
                throw new SQLException("the driver refused the address " + host + ":" + port);
            }
            boolean noBackslashEscapes;
            try (Statement st = c.createStatement()) {
                st.setQueryTimeout(s.queryTimeout());
                try (ResultSet rs = st.executeQuery("SELECT @@SESSION.sql_mode")) {
                    rs.next();
                    String mode = rs.getString(1);
                    noBackslashEscapes = mode != null && mode.toUpperCase().contains("NO_BACKSLASH_ESCAPES");
                }
            } catch (SQLException failed) {
                c.close();
                throw failed;
            }
            return new Session(c, noBackslashEscapes ? SqlDialect::doubleQuotes : SqlDialect::mysqlEscape);
        }

        @Override
        List<String> values(Statement st, String sql, SqlSettings settings) throws SQLException {
            List<String> out = new ArrayList<>();
            boolean isResultSet = st.execute(sql);
            boolean first = true;
            boolean any = false;
            while (true) {
                if (isResultSet) {
                    if (!first) {
                        throw new SQLException("multiple result sets returning data are not supported");
                    }
                    first = false;
                    any = true;
                    try (ResultSet rs = st.getResultSet()) {
                        int columns = rs.getMetaData().getColumnCount();
                        while (rs.next()) {
                            for (int i = 1; i <= columns; i++) {
                                out.add(rs.getString(i));
                            }
                        }
                    }
                } else if (st.getUpdateCount() == -1) {
                    break;
                }
                isResultSet = st.getMoreResults();
            }
            if (!any && settings.requireResultSet()) {
                throw new SQLException("query returned no result set(require_result_set = yes)");
            }
            return out;
        }

        @Override
        String queryFailure(Endpoint e, String why) {
            return "query failed: " + why;
        }
    };

    static final SqlDialect SQLITE = new SqlDialect("sqlite") {
        @Override
        Endpoint endpoint(String dbpath) {
            return new Endpoint(dbpath, true, dbpath, 0);
        }

        @Override
        Session connect(Endpoint e, SqlSettings s) throws SQLException {
            org.sqlite.SQLiteConfig config = new org.sqlite.SQLiteConfig();
            config.setReadOnly(true);
            config.setBusyTimeout(s.queryTimeout() * 1000);
            Connection c = new org.sqlite.JDBC().connect("jdbc:sqlite:" + e.host(), config.toProperties());
            return new Session(c, SqlDialect::doubleQuotes);
        }

        @Override
        List<String> values(Statement st, String sql, SqlSettings settings) throws SQLException {
            List<String> out = new ArrayList<>();
            if (st.execute(sql)) {
                try (ResultSet rs = st.getResultSet()) {
                    while (rs.next()) {
                        out.add(rs.getString(1)); // Postfix reads the first column only
                    }
                }
            }
            return out;
        }

        @Override
        String connectFailure(Endpoint e, String why) {
            return "open database " + e.host() + ": " + why;
        }

        @Override
        String queryFailure(Endpoint e, String why) {
            return "SQL step failed: " + why;
        }
    };

    /** What pg_stat_activity shows for a table's connections: "estafeta pgsql:/etc/x.cf", cut to 63 characters. */
    static String applicationName(SqlSettings s) {
        String name = "estafeta " + s.table();
        return name.length() > 63 ? name.substring(0, 63) : name;
    }

    private static int port(String text, int dflt) {
        try {
            int p = Integer.parseInt(text);
            return p > 0 && p < 65536 ? p : dflt;
        } catch (NumberFormatException e) {
            return dflt;
        }
    }

    /** sqlite3_mprintf("%q"), and MySQL's escaping under NO_BACKSLASH_ESCAPES: quotes doubled. */
    static void doubleQuotes(String raw, StringBuilder out) {
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            out.append(c);
            if (c == '\'') {
                out.append('\'');
            }
        }
    }

    /** mysql_real_escape_string: backslash before NUL, LF, CR, backslash, quotes and Ctrl-Z. */
    static void mysqlEscape(String raw, StringBuilder out) {
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            switch (c) {
                case '\0' -> out.append("\\0");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\\' -> out.append("\\\\");
                case '\'' -> out.append("\\'");
                case '"' -> out.append("\\\"");
                case '\032' -> out.append("\\Z");
                default -> out.append(c);
            }
        }
    }
}
