package org.estafeta.table.ldap;

import java.util.Deque;
import java.util.Hashtable;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

import javax.naming.Context;
import javax.naming.NamingException;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;

/**
 * The LDAP connections of one table, through the JDK's own client (JNDI's {@code com.sun.jndi.ldap} provider).
 * A connection is used by one lookup at a time: {@link #take()} hands out an idle one or opens (and binds) a new
 * one, {@link #give(DirContext)} puts it back, {@link #discard(DirContext)} closes one that failed. At most
 * {@value #MAX_IDLE} idle connections are kept; more are opened while more lookups run at once.
 *
 * <p><b>Threading:</b> safe for concurrent use. <b>Blocking:</b> opening connects and binds, bounded by the
 * table's timeout per server. <b>Class loading:</b> JNDI finds its provider through the thread context class
 * loader, which in OSGi is a bundle's loader that cannot see {@code com.sun.jndi.ldap}: {@link #take} opens
 * connections with {@link #PROVIDER_LOADER} (the platform class loader: the JDK's own modules) as the context
 * class loader, and callers set it the same way around searches (response controls are loaded through it too).
 */
final class LdapConnections implements AutoCloseable {
    static final int MAX_IDLE = 8;
    /** The loader that sees JNDI's LDAP provider: the platform class loader (module java.naming). */
    static final ClassLoader PROVIDER_LOADER = ClassLoader.getPlatformClassLoader();

    /** A JNDI call. */
    interface NamingCall<T> {
        T call() throws NamingException;
    }

    private final Hashtable<String, Object> env;
    private final Deque<DirContext> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger idleCount = new AtomicInteger();
    private volatile boolean closed;

    LdapConnections(LdapSettings s) {
        Hashtable<String, Object> e = new Hashtable<>();
        e.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.ldap.LdapCtxFactory");
        e.put(Context.PROVIDER_URL, String.join(" ", s.servers));
        e.put("java.naming.ldap.version", "3");
        e.put("java.naming.ldap.derefAliases", s.dereference);
        // "ignore" would send the ManageDsaIT control and return referral objects as entries
        e.put(Context.REFERRAL, s.chaseReferrals ? "follow" : "throw");
        e.put("com.sun.jndi.ldap.connect.pool", "false");
        String millis = Long.toString(s.timeout * 1000L);
        e.put("com.sun.jndi.ldap.connect.timeout", millis);
        e.put("com.sun.jndi.ldap.read.timeout", millis);
        if (s.bind && !(s.bindDn.isEmpty() && s.bindPw.isEmpty())) {
            e.put(Context.SECURITY_AUTHENTICATION, "simple");
            e.put(Context.SECURITY_PRINCIPAL, s.bindDn);
            e.put(Context.SECURITY_CREDENTIALS, s.bindPw);
        } else {
            // bind = no, or an anonymous bind (Postfix's bind = yes with empty bind_dn and bind_pw)
            e.put(Context.SECURITY_AUTHENTICATION, "none");
        }
        this.env = e;
    }

    /** An idle connection, or a new one (connected and bound); {@code fresh[0]} says which. */
    DirContext take(boolean[] fresh) throws NamingException {
        DirContext ctx = idle.pollFirst();
        if (ctx != null) {
            idleCount.decrementAndGet();
            fresh[0] = false;
            return ctx;
        }
        fresh[0] = true;
        return withPlatformLoader(() -> new InitialDirContext(new Hashtable<>(env)));
    }

    /** Returns a connection that worked. */
    void give(DirContext ctx) {
        if (closed) {
            discard(ctx);
            return;
        }
        if (idleCount.incrementAndGet() > MAX_IDLE) {
            idleCount.decrementAndGet();
            discard(ctx);
            return;
        }
        idle.offerFirst(ctx);
        if (closed) {
            close(); // closed while this lookup ran: the connection must not stay open
        }
    }

    /** Closes a connection that failed (or is not wanted). */
    void discard(DirContext ctx) {
        try {
            ctx.close();
        } catch (NamingException | RuntimeException e) {
            // it is gone either way
        }
    }

    @Override
    public void close() {
        closed = true;
        DirContext ctx;
        while ((ctx = idle.pollFirst()) != null) {
            idleCount.decrementAndGet();
            discard(ctx);
        }
    }

    /** Runs {@code call} with the platform class loader as the thread context class loader. */
    static <T> T withPlatformLoader(NamingCall<T> call) throws NamingException {
        Thread t = Thread.currentThread();
        ClassLoader saved = t.getContextClassLoader();
        t.setContextClassLoader(PROVIDER_LOADER);
        try {
            return call.call();
        } finally {
            t.setContextClassLoader(saved);
        }
    }
}
