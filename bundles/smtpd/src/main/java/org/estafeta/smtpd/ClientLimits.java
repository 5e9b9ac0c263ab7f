package org.estafeta.smtpd;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Postfix's anvil, in-process and per smtpd instance: how many connections each client address has open now, and
 * how many it opened in the current {@code anvil_rate_time_unit}. Entries live while the address has connections or
 * its rate window is current, so memory follows the number of recent distinct clients.
 */
final class ClientLimits {
    /** What {@link #connect} counted, this connection included. */
    record Counts(int count, int rate) {
    }

    private static final class Entry {
        int count;
        int rate;
        long windowStart;
    }

    private final long unitNanos;
    private final Map<String, Entry> entries = new HashMap<>();
    private int sinceSweep;

    ClientLimits(long unitSeconds) {
        this.unitNanos = unitSeconds * 1_000_000_000L;
    }

    synchronized Counts connect(String address, long nowNanos) {
        if (++sinceSweep >= 1024) {
            sinceSweep = 0;
            sweep(nowNanos);
        }
        Entry e = entries.computeIfAbsent(address, a -> new Entry());
        if (e.rate == 0 || nowNanos - e.windowStart >= unitNanos) {
            e.windowStart = nowNanos;
            e.rate = 0;
        }
        e.count++;
        e.rate++;
        return new Counts(e.count, e.rate);
    }

    /**
     * Counts one event (an AUTH command) of {@code address} in the current rate window, without a connection, and
     * returns the events in the window, this one included.
     */
    synchronized int event(String address, long nowNanos) {
        if (++sinceSweep >= 1024) {
            sinceSweep = 0;
            sweep(nowNanos);
        }
        Entry e = entries.computeIfAbsent(address, a -> new Entry());
        if (e.rate == 0 || nowNanos - e.windowStart >= unitNanos) {
            e.windowStart = nowNanos;
            e.rate = 0;
        }
        return ++e.rate;
    }

    synchronized void disconnect(String address, long nowNanos) {
        Entry e = entries.get(address);
        if (e == null) {
            return;
        }
        e.count--;
        if (e.count <= 0 && nowNanos - e.windowStart >= unitNanos) {
            entries.remove(address);
        }
    }

    synchronized int size() {
        return entries.size();
    }

    private void sweep(long nowNanos) {
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext();) {
            Entry e = it.next();
            if (e.count <= 0 && nowNanos - e.windowStart >= unitNanos) {
                it.remove();
            }
        }
    }
}
