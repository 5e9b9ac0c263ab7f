package org.estafeta.table.socketmap;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;

/**
 * One {@code socketmap:ENDPOINT:NAME} table (Postfix's dict_sockmap.c): each lookup sends the netstring
 * {@code NAME KEY} and reads one netstring reply, {@code OK value}, {@code NOTFOUND }, or {@code TEMP},
 * {@code TIMEOUT} or {@code PERM} with a reason. The key is sent as it is given (Postfix folds it only for callers
 * that ask for folding of pattern tables, which none does by default).
 *
 * <p><b>Connections</b> are kept open and reused (up to {@link Limits#maxIdleConnections} idle ones; an idle one
 * is closed after {@link Limits#maxIdle}, any after {@link Limits#maxTtl}). A connection that breaks is closed, and
 * the lookup is tried once more on a new one, so that a server restart goes unnoticed (as Postfix: only an
 * unexpected disconnect is retried, never a timeout).
 *
 * <p><b>Errors:</b> every failure is a {@link LookupResult.TemporaryFailure}: a connect or I/O error, a timeout, a
 * malformed or oversized reply, and the server's {@code TEMP}, {@code TIMEOUT} and {@code PERM} (Postfix sets
 * DICT_ERR_CONFIG for PERM, which its callers handle as a lookup error too: mail is deferred, never bounced). Each
 * is logged as a warning with Postfix's text, e.g.
 * {@code socketmap:inet:127.0.0.1:9:user socketmap server permanent error: no such map}.
 *
 * <p><b>Threading:</b> safe from any number of threads; each lookup uses a connection of its own.
 * <b>Blocking:</b> a lookup blocks for at most {@link Limits#timeout} per try (two tries at most).
 */
final class SocketmapTable implements LookupTable {
    private final String spec;
    private final Endpoint endpoint;
    private final String mapName;
    private final Limits limits;
    private final System.Logger log;
    private final Deque<Connection> idle = new ArrayDeque<>();
    private boolean closed;

    SocketmapTable(String spec, Endpoint endpoint, String mapName, Limits limits, System.Logger log) {
        this.spec = spec;
        this.endpoint = endpoint;
        this.mapName = mapName;
        this.limits = limits;
        this.log = log;
    }

    @Override
    public LookupResult lookup(String key) {
        synchronized (this) {
            if (closed) {
                return LookupResult.temporaryFailure(spec + ": lookup after close");
            }
        }
        String reply = null;
        for (int attempt = 0; reply == null; attempt++) {
            long deadline = System.nanoTime() + limits.timeout().toNanos();
            Connection c;
            try {
                c = borrow(deadline);
            } catch (IOException e) {
                String why = describe(e);
                log.log(System.Logger.Level.WARNING, "connect to " + endpoint.logName() + ": " + why);
                log.log(System.Logger.Level.WARNING, "table " + spec + " lookup error: " + why);
                return LookupResult.temporaryFailure(spec + ": connect to " + endpoint.logName() + ": " + why);
            }
            try {
                reply = c.exchange(mapName + " " + key, limits.maxReply(), deadline);
                giveBack(c);
            } catch (NetstringException e) {
                c.close();
                if (attempt == 0 && e.kind == NetstringException.Kind.EOF) {
                    continue; // a server restart or an idle connection it dropped: one more try, on a new one
                }
                log.log(System.Logger.Level.WARNING, "table " + spec + " lookup error: " + e.getMessage());
                return LookupResult.temporaryFailure(spec + ": lookup error: " + e.getMessage());
            }
        }
        return parse(reply);
    }

    /** The answer a reply stands for; what is not a definitive answer is logged and a temporary failure. */
    LookupResult parse(String reply) {
        int space = reply.indexOf(' ');
        String status = space < 0 ? reply : reply.substring(0, space);
        String payload = space < 0 ? null : reply.substring(space + 1);
        String errorClass;
        switch (status) {
            case "OK":
                // dict_sockmap.c returns the text after the space; "OK" alone has none, and is "not found"
                return payload == null ? LookupResult.notFound() : LookupResult.found(payload);
            case "NOTFOUND":
                return LookupResult.notFound();
            case "TEMP":
                errorClass = "temporary";
                break;
            case "TIMEOUT":
                errorClass = "timeout";
                break;
            case "PERM":
                errorClass = "permanent";
                break;
            default:
                errorClass = "unknown";
                break;
        }
        String reason = payload == null ? "" : printable(payload.stripLeading());
        if (reason.length() > 200) {
            reason = reason.substring(0, 200);
        }
        String text = spec + " socketmap server " + errorClass + " error" + (reason.isEmpty() ? "" : ": " + reason);
        log.log(System.Logger.Level.WARNING, text);
        return LookupResult.temporaryFailure(text);
    }

    /** Postfix's printable(s, '?'): control characters become '?'. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return b.toString();
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.getClass().getSimpleName() : m;
    }

    private Connection borrow(long deadline) throws IOException {
        long now = System.nanoTime();
        for (;;) {
            Connection c;
            synchronized (this) {
                c = idle.pollFirst();
            }
            if (c == null) {
                return Connection.open(endpoint, deadline);
            }
            if (expired(c, now) || c.isBroken()) {
                c.close();
                continue;
            }
            return c;
        }
    }

    private void giveBack(Connection c) {
        long now = System.nanoTime();
        c.idleSinceNanos = now;
        Connection drop = null;
        synchronized (this) {
            if (closed || now - c.createdNanos >= limits.maxTtl().toNanos()) {
                drop = c;
            } else {
                idle.addFirst(c);
                if (idle.size() > limits.maxIdleConnections()) {
                    drop = idle.pollLast();
                }
            }
        }
        if (drop != null) {
            drop.close();
        }
    }

    private boolean expired(Connection c, long now) {
        return now - c.idleSinceNanos >= limits.maxIdle().toNanos() || now - c.createdNanos >= limits.maxTtl().toNanos();
    }

    /** How many connections wait for reuse (for tests). */
    synchronized int idleConnections() {
        return idle.size();
    }

    @Override
    public void close() {
        Deque<Connection> all;
        synchronized (this) {
            closed = true;
            all = new ArrayDeque<>(idle);
            idle.clear();
        }
        all.forEach(Connection::close);
    }

    @Override
    public String toString() {
        return spec;
    }
}
