package org.estafeta.table.sql;

import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;

/**
 * An open {@code pgsql:}, {@code mysql:} or {@code sqlite:} table: Postfix's dict_pgsql/dict_mysql/dict_sqlite
 * lookup over JDBC. A lookup folds the key to lower case (Postfix's tables get keys folded), applies the
 * {@code domain} filter and the templates' key rules, then asks the servers in Postfix's order (servers with an
 * idle connection first, UNIX-domain sockets before TCP, random among equals) until one answers.
 *
 * <p><b>Threading:</b> lookups run concurrently, at most {@value #MAX_CONNECTIONS} at a time per table (each
 * on its own connection; a lookup waits for a free one at most the connect timeout). <b>Blocking:</b> each
 * server costs at most the connect plus the query timeout. <b>Errors:</b> a server that cannot be reached, refuses
 * the login, or fails the query is logged ({@code warning: pgsql:/etc/x.cf: connect to pgsql server ...}) and
 * skipped for {@code retry_interval}; when no server answers, the lookup is a temporary failure naming the table,
 * never "not found". A connection that broke while idle (a restarted server) is replaced at once; connections
 * idle for {@code idle_interval} are closed.
 */
final class SqlTable implements LookupTable {
    static final int MAX_CONNECTIONS = 4;

    private final String table;
    private final SqlDialect dialect;
    private final SqlSettings settings;
    private final Expansions expansions;
    private final DomainFilter domain;
    private final int expansionLimit;
    private final List<SqlHost> hosts;
    private final long retryMillis;
    private final long idleMillis;
    private final Clock clock;
    private final System.Logger log;
    private final Semaphore connections = new Semaphore(MAX_CONNECTIONS, true);
    private final ScheduledFuture<?> sweeper;
    private volatile boolean closed;

    /**
     * Closes idle connections after idle_interval, as Postfix's timer does. One daemon thread for all tables; it
     * ends by itself ten seconds after the last table closed, so a stopped bundle leaves no thread behind.
     */
    private static final ScheduledThreadPoolExecutor SWEEPER = sweeperPool();

    private static ScheduledThreadPoolExecutor sweeperPool() {
        ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "estafeta-sql-idle");
            t.setDaemon(true);
            return t;
        });
        pool.setKeepAliveTime(10, TimeUnit.SECONDS);
        pool.allowCoreThreadTimeOut(true);
        pool.setRemoveOnCancelPolicy(true);
        return pool;
    }

    SqlTable(String table, SqlDialect dialect, SqlSettings settings, Expansions expansions, DomainFilter domain,
            int expansionLimit, List<Endpoint> endpoints, int retryInterval, int idleInterval, Clock clock,
            System.Logger log) {
        this.table = table;
        this.dialect = dialect;
        this.settings = settings;
        this.expansions = expansions;
        this.domain = domain;
        this.expansionLimit = expansionLimit;
        this.hosts = endpoints.stream().map(SqlHost::new).toList();
        this.retryMillis = retryInterval * 1000L;
        this.idleMillis = idleInterval * 1000L;
        this.clock = clock;
        this.log = log;
        long period = Math.max(1000, Math.min(idleMillis / 2, 30_000));
        this.sweeper = SWEEPER.scheduleWithFixedDelay(() -> {
            long now = clock.millis();
            for (SqlHost h : hosts) {
                h.closeIdleOlderThan(now, idleMillis);
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public LookupResult lookup(String key) {
        if (closed) {
            return LookupResult.temporaryFailure(table + ": table is closed");
        }
        if (key.indexOf('\0') >= 0) {
            return LookupResult.notFound(); // a C string cannot hold it: Postfix never asks for it
        }
        key = foldAscii(key);
        if (domain != null) {
            StringBuilder why = new StringBuilder();
            switch (domain.check(key, why)) {
                case SKIP:
                    return LookupResult.notFound();
                case FAIL:
                    warn(table + ": 'domain' pattern match failed for '" + key + "': " + why);
                    return LookupResult.temporaryFailure(table + ": " + why);
                default:
                    break;
            }
        }
        if (key.isEmpty()) {
            warn("table \"" + table + "\": empty query string -- ignored");
            return LookupResult.notFound();
        }
        if (expansions.expandQuery(key, Expansions.NONE) == null) {
            return LookupResult.notFound();
        }
        boolean permit;
        try {
            permit = connections.tryAcquire(settings.connectTimeout(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return LookupResult.temporaryFailure(table + ": interrupted");
        }
        if (!permit) {
            warn(table + ": all " + MAX_CONNECTIONS + " connections busy for " + settings.connectTimeout() + "s");
            return LookupResult.temporaryFailure(table + ": all connections busy");
        }
        try {
            return query(key);
        } finally {
            connections.release();
        }
    }

    private LookupResult query(String key) {
        String lastFailure = null;
        for (SqlHost host : order()) {
            Answer answer = ask(host, key);
            if (answer.values() != null) {
                return result(key, answer.values());
            }
            lastFailure = answer.failure();
        }
        return LookupResult.temporaryFailure(table + ": "
                + (lastFailure == null ? "all database servers are in their retry interval" : lastFailure));
    }

    /** The servers to try, in Postfix's order, without those in their retry interval. */
    private List<SqlHost> order() {
        long now = clock.millis();
        List<SqlHost> out = new ArrayList<>();
        for (boolean active : new boolean[] {true, false}) {
            for (boolean unix : new boolean[] {true, false}) {
                List<SqlHost> group = new ArrayList<>();
                for (SqlHost h : hosts) {
                    if (h.active() == active && h.endpoint.unix() == unix && !out.contains(h)
                            && (active || hosts.size() == 1 || !h.down(now))) {
                        group.add(h);
                    }
                }
                Collections.shuffle(group);
                out.addAll(group);
            }
        }
        return out;
    }

    /** What one server said: the values, or why it could not answer. */
    private record Answer(List<String> values, String failure) {
    }

    /** Asks {@code host}. */
    private Answer ask(SqlHost host, String key) {
        SqlDialect.Session session = host.take(clock.millis(), idleMillis);
        boolean reused = session != null;
        while (true) {
            if (session == null) {
                try {
                    session = dialect.connect(host.endpoint, settings);
                } catch (SQLException | RuntimeException e) {
                    String why = dialect.connectFailure(host.endpoint, message(e));
                    warn(table + ": " + why);
                    host.markDown(clock.millis() + retryMillis);
                    return new Answer(null, why);
                }
            }
            List<String> values;
            try (Statement st = session.connection().createStatement()) {
                st.setQueryTimeout(settings.queryTimeout());
                values = dialect.values(st, expansions.expandQuery(key, session.quoter()), settings);
            } catch (SQLException | RuntimeException e) {
                boolean broken = connectionBroken(e, session);
                SqlHost.close(session);
                session = null;
                if (reused && broken) {
                    // an idle connection died (a restarted server, a dropped socket): one fresh try on the same server
                    reused = false;
                    host.closeIdle();
                    continue;
                }
                String why = dialect.queryFailure(host.endpoint, message(e));
                warn(table + ": " + why);
                host.markDown(clock.millis() + retryMillis);
                return new Answer(null, why);
            }
            // the statement is closed: the connection may go to another lookup now
            host.markUp();
            host.give(session, clock.millis());
            if (closed) {
                host.closeIdle();
            }
            return new Answer(values, null);
        }
    }

    /** Whether {@code e} says the connection is gone (rather than the query failing or timing out). */
    private static boolean connectionBroken(Exception e, SqlDialect.Session session) {
        if (e instanceof java.sql.SQLRecoverableException || e instanceof java.sql.SQLNonTransientConnectionException) {
            return true;
        }
        if (e instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("08")) {
            return true;
        }
        try {
            return session.connection().isClosed();
        } catch (SQLException closed) {
            return true;
        }
    }

    private LookupResult result(String key, List<String> values) {
        StringBuilder out = new StringBuilder();
        int expansion = 0;
        for (String v : values) {
            if (v == null) {
                continue;
            }
            if (v.isEmpty()) {
                warn("table \"" + table + "\": empty lookup result for: \"" + key + "\" -- ignored");
                continue;
            }
            String r = expansions.expandResult(v, key);
            if (r == null) {
                continue;
            }
            if (out.length() > 0) {
                out.append(',');
            }
            out.append(r);
            if (expansionLimit > 0 && ++expansion > expansionLimit) {
                warn(table + ": Expansion limit exceeded for key: '" + key + "'");
                return LookupResult.temporaryFailure(table + ": expansion limit exceeded for key: '" + key + "'");
            }
        }
        return out.length() == 0 ? LookupResult.notFound() : LookupResult.found(out.toString());
    }

    /** Postfix's lowercase(): ASCII letters only. */
    static String foldAscii(String key) {
        StringBuilder b = null;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                if (b == null) {
                    b = new StringBuilder(key);
                }
                b.setCharAt(i, (char) (c + 32));
            }
        }
        return b == null ? key : b.toString();
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        return m.replace('\n', ' ').trim();
    }

    private void warn(String text) {
        log.log(System.Logger.Level.WARNING, text);
    }

    @Override
    public void close() {
        closed = true;
        sweeper.cancel(false);
        for (SqlHost h : hosts) {
            h.closeIdle();
        }
        if (domain != null) {
            domain.close();
        }
    }

    @Override
    public String toString() {
        return table;
    }
}
