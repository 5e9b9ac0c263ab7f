package org.estafeta.table.sql;

import java.sql.SQLException;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * One database server of a table and the idle connections to it, reused most-recent first; connections idle
 * longer than {@code idle_interval} are closed when next seen. After a failure the server is skipped for
 * {@code retry_interval} (unless it is the table's only server). Thread-safe.
 */
final class SqlHost {
    /** An idle connection and when it was last used. */
    record Idle(SqlDialect.Session session, long since) {
    }

    final Endpoint endpoint;
    private final ConcurrentLinkedDeque<Idle> idle = new ConcurrentLinkedDeque<>();
    private volatile long downUntil;

    SqlHost(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    /** Whether idle connections wait here (Postfix's "active" host). */
    boolean active() {
        return !idle.isEmpty();
    }

    boolean down(long now) {
        return now < downUntil;
    }

    void markDown(long until) {
        downUntil = until;
        closeIdle();
    }

    void markUp() {
        downUntil = 0;
    }

    /** The most recently used idle connection that is not older than {@code maxIdleMillis}, or null. */
    SqlDialect.Session take(long now, long maxIdleMillis) {
        Idle i;
        while ((i = idle.pollFirst()) != null) {
            if (now - i.since() <= maxIdleMillis) {
                return i.session();
            }
            close(i.session());
        }
        return null;
    }

    /** Closes the idle connections not used for {@code maxIdleMillis}. */
    void closeIdleOlderThan(long now, long maxIdleMillis) {
        for (Idle i : idle) {
            if (now - i.since() > maxIdleMillis && idle.remove(i)) {
                close(i.session());
            }
        }
    }

    void give(SqlDialect.Session s, long now) {
        idle.offerFirst(new Idle(s, now));
    }

    void closeIdle() {
        Idle i;
        while ((i = idle.pollFirst()) != null) {
            close(i.session());
        }
    }

    static void close(SqlDialect.Session s) {
        try {
            s.connection().close();
        } catch (SQLException | RuntimeException ignored) {
            // the connection is being dropped anyway
        }
    }
}
