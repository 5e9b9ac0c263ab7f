package org.estafeta.transport.smtp.internal;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Idle connections kept for reuse, keyed by service and next hop (Postfix's scache by next-hop name). A
 * connection that stays idle for {@code smtp_connection_cache_time_limit} is closed with QUIT; one older than
 * {@code smtp_connection_reuse_time_limit} is never handed out again.
 */
final class ConnectionCache {
    private final Map<String, Deque<Connection>> idle = new HashMap<>();
    private long tokens;

    /** Keeps {@code c} under {@code key}, closing it after {@code idleLimit} unless taken before. */
    void put(String key, Connection c, Duration idleLimit, Duration quitTimeout) {
        long token;
        synchronized (this) {
            token = ++tokens;
            c.cacheToken = token;
            idle.computeIfAbsent(key, k -> new ArrayDeque<>()).addFirst(c);
        }
        c.schedule(() -> {
            if (remove(key, c, token)) {
                c.quit(quitTimeout);
            }
        }, idleLimit);
    }

    /** An open connection under {@code key} younger than {@code reuseLimit}, or null; others are closed. */
    Connection take(String key, Duration reuseLimit, Duration quitTimeout) {
        while (true) {
            Connection c;
            synchronized (this) {
                Deque<Connection> d = idle.get(key);
                c = d == null ? null : d.pollFirst();
                if (d != null && d.isEmpty()) {
                    idle.remove(key);
                }
                if (c == null) {
                    return null;
                }
                c.cacheToken = 0;
            }
            if (c.isOpen() && System.nanoTime() - c.createdNanos < reuseLimit.toNanos()) {
                return c;
            }
            c.quit(quitTimeout);
        }
    }

    private synchronized boolean remove(String key, Connection c, long token) {
        Deque<Connection> d = idle.get(key);
        if (d == null || c.cacheToken != token || !d.remove(c)) {
            return false;
        }
        if (d.isEmpty()) {
            idle.remove(key);
        }
        return true;
    }

    /** How many connections are kept (tests). */
    synchronized int size() {
        return idle.values().stream().mapToInt(Deque::size).sum();
    }

    /** Closes every kept connection (component deactivation). */
    void closeAll() {
        List<Connection> all = new ArrayList<>();
        synchronized (this) {
            idle.values().forEach(all::addAll);
            idle.clear();
        }
        all.forEach(Connection::close);
    }
}
