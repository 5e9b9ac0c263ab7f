package org.estafeta.table.sql;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * What the three SQL table factories share: reading the configuration file with Postfix's parameter names,
 * defaults and refusals, and building the {@link SqlTable}. Opening reads the file only; the servers are first
 * contacted by the first lookup (a server that is down at start-up makes lookups temporary failures, not the table
 * unusable), except for sqlite, whose database file is opened at once as Postfix does.
 *
 * <p>A {@code type:table} in the {@code domain} parameter is opened through the {@link LookupTableFactory} service
 * of that type, found in the service registry when the table opens.
 *
 * <p><b>Threading:</b> {@link #open} may run on several threads at once. <b>Blocking:</b> reads files; sqlite opens
 * its database.
 */
public abstract class SqlTableFactory implements LookupTableFactory {
    /** Seconds allowed to connect and log in, by default (Estafeta's parameter {@code connect_timeout}). */
    static final int DEFAULT_CONNECT_TIMEOUT = 5;
    /** Seconds allowed for one query, by default (Estafeta's parameter {@code query_timeout}). */
    static final int DEFAULT_QUERY_TIMEOUT = 10;

    /** Finds the factory of another table type, for {@code domain = hash:/etc/x}; null when none. */
    @FunctionalInterface
    public interface TableTypes {
        LookupTableFactory factory(String type);
    }

    private final SqlDialect dialect;
    private volatile TableTypes types = type -> null;

    SqlTableFactory(SqlDialect dialect) {
        this.dialect = dialect;
    }

    /** Where {@code type:table} entries of {@code domain} are opened (tests; the OSGi registry otherwise). */
    public void tableTypes(TableTypes types) {
        this.types = types;
    }

    /** Uses the service registry of {@code bundle} for {@code type:table} entries of {@code domain}. */
    void tableTypes(BundleContext bundle) {
        this.types = type -> {
            Collection<ServiceReference<LookupTableFactory>> refs;
            try {
                refs = bundle.getServiceReferences(LookupTableFactory.class, "(" + TYPE + "=" + type + ")");
            } catch (InvalidSyntaxException | IllegalStateException e) {
                return null;
            }
            for (ServiceReference<LookupTableFactory> ref : refs) {
                LookupTableFactory f = bundle.getService(ref);
                if (f != null) {
                    return f;
                }
            }
            return null;
        };
    }

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        String table = spec.toString();
        System.Logger log = context.logger();
        Consumer<String> warn = w -> log.log(System.Logger.Level.WARNING, w);
        SqlConfig cfg = SqlConfig.read(table, spec.name(), context::parameter, warn);
        try {
            return open(table, cfg, context, warn);
        } catch (TableOpenException e) {
            if (e.getMessage().startsWith(table + ": ")) {
                throw e;
            }
            throw new TableOpenException(table + ": " + e.getMessage(), e.getCause());
        }
    }

    private LookupTable open(String table, SqlConfig cfg, PluginContext context, Consumer<String> warn)
            throws TableOpenException {
        // parameters are read in the order of Postfix's *_parse_config(), so that the first error reported is the same
        boolean sqlite = dialect == SqlDialect.SQLITE;
        List<Endpoint> endpoints = new ArrayList<>();
        String user = "";
        String password = "";
        String dbname = "";
        int retryInterval = 60;
        int idleInterval = 60;
        boolean requireResultSet = false;
        String query;
        String resultFormat;
        int expansionLimit;
        if (sqlite) {
            endpoints.add(dialect.endpoint(cfg.string("dbpath", "", 1)));
            query = cfg.string("query", null, 0);
            if (query == null) {
                query = legacyQuery(cfg);
            }
            flagUnquoted(cfg.name(), query, warn);
            resultFormat = cfg.string("result_format", "%s", 1);
            expansionLimit = cfg.integer("expansion_limit", 0, 0);
        } else {
            user = cfg.string("user", "", 0);
            password = cfg.string("password", "", 0);
            dbname = cfg.string("dbname", "", 1);
            retryInterval = cfg.integer("retry_interval", 60, 1);
            idleInterval = cfg.integer("idle_interval", 60, 1);
            resultFormat = cfg.string("result_format", "%s", 1);
            if (dialect == SqlDialect.MYSQL) {
                for (String p : List.of("option_file", "tls_cert_file", "tls_key_file", "tls_CAfile", "tls_CApath",
                        "tls_ciphers", "tls_verify_cert")) {
                    if (cfg.string(p, null, 0) != null) {
                        warn.accept(table + ": parameter " + p + " is not supported by Estafeta -- ignored");
                    }
                }
                requireResultSet = cfg.bool("require_result_set", true);
            }
            expansionLimit = cfg.integer("expansion_limit", 0, 0);
            query = cfg.string("query", null, 0);
            if (query == null) {
                String function = dialect == SqlDialect.PGSQL ? cfg.string("select_function", null, 0) : null;
                query = function != null ? "SELECT " + function + "('%s')" : legacyQuery(cfg);
            }
        }
        Expansions expansions = Expansions.parse(cfg.name(), query, resultFormat);
        String domainList = cfg.string("domain", "", 0);
        if (!sqlite) {
            for (String h : cfg.string("hosts", "", 0).split("[, \t\r\n]+")) {
                if (h.isEmpty()) {
                    continue;
                }
                if (h.matches("[A-Za-z][A-Za-z0-9+.-]*://.*")) {
                    throw new TableOpenException("hosts: connection URIs are not supported: give "
                            + "inet:host:port or unix:/path and the dbname, user and password parameters");
                }
                endpoints.add(dialect.endpoint(h));
            }
            if (endpoints.isEmpty()) {
                endpoints.add(dialect.endpoint("localhost"));
            }
        }
        int connectTimeout = cfg.integer("connect_timeout", DEFAULT_CONNECT_TIMEOUT, 1);
        int queryTimeout = cfg.integer("query_timeout", DEFAULT_QUERY_TIMEOUT, 1);
        SqlSettings settings = new SqlSettings(table, user, password, dbname, connectTimeout, queryTimeout,
                requireResultSet);
        DomainFilter domain = DomainFilter.parse(cfg.name(), domainList, spec -> {
            LookupTableFactory f = spec.type().equals(dialect.type) ? this : types.factory(spec.type());
            if (f == null) {
                throw new TableOpenException("unsupported dictionary type: " + spec.type());
            }
            return f.open(spec, context);
        });
        SqlTable t = new SqlTable(table, dialect, settings, expansions, domain, expansionLimit, endpoints,
                retryInterval, idleInterval, context.clock(), context.logger());
        if (sqlite) {
            try {
                SqlDialect.Session s = dialect.connect(endpoints.get(0), settings);
                SqlHost.close(s);
            } catch (SQLException | RuntimeException e) {
                t.close();
                throw new TableOpenException("open database " + endpoints.get(0).host() + ": " + e.getMessage(), e);
            }
        }
        context.logger().log(System.Logger.Level.INFO, table + ": opened, " + describe(endpoints, sqlite));
        return t;
    }

    private static String describe(List<Endpoint> endpoints, boolean sqlite) {
        if (sqlite) {
            return "database " + endpoints.get(0).host();
        }
        List<String> names = new ArrayList<>();
        for (Endpoint e : endpoints) {
            names.add(e.text());
        }
        return "hosts " + String.join(" ", names);
    }

    /** db_common_sql_build_query: the pre-2.2 table/select_field/where_field/additional_conditions form. */
    private static String legacyQuery(SqlConfig cfg) throws TableOpenException {
        // Postfix refuses a missing one with its minimum-length check ("bad string length 0 < 1: table = ")
        String tableName = cfg.string("table", null, 1);
        String select = cfg.string("select_field", null, 1);
        String where = cfg.string("where_field", null, 1);
        String additional = cfg.string("additional_conditions", "", 0);
        return "SELECT " + select + " FROM " + tableName + " WHERE " + where + "='%s' " + additional;
    }

    /** dict_sqlite's warning for an expansion outside '...' quotes. */
    private static void flagUnquoted(String cfgName, String query, Consumer<String> warn) {
        char inQuote = 0;
        for (int i = 0; i < query.length(); i++) {
            char c = query.charAt(i);
            if (inQuote == 0) {
                if (c == '\'' || c == '"') {
                    inQuote = c;
                }
            } else if (c == inQuote) {
                inQuote = 0;
            }
            if (inQuote == '\'') {
                continue;
            }
            if (c == '%' && i + 1 < query.length()) {
                char n = query.charAt(i + 1);
                if (n == '%') {
                    i++;
                } else if (Character.isLetterOrDigit(n) && n < 128) {
                    warn.accept("sqlite:" + cfgName + ": query >" + query + "< contains >" + query.substring(i, i + 2)
                            + "< without the recommended '' quotes");
                    i++;
                }
            }
        }
    }
}
