package org.estafeta.pickup.internal;

import org.estafeta.cleanup.Cleanup;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.master.daemon.Daemon;
import org.estafeta.master.daemon.DaemonInstance;
import org.estafeta.queue.QueueStore;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The program master.cf's {@code pickup} entry names ({@code pickup unix n - n 60 1 pickup}): each start runs one
 * {@link Pickup} with the entry's snapshot (its {@code -o content_filter=} applies to local mail) and the entry's
 * wakeup time (default 60 s).
 */
@Component(service = Daemon.class, property = Daemon.COMMAND + "=pickup", immediate = true)
public final class PickupDaemon implements Daemon {
    static final long DEFAULT_WAKEUP = 60;

    @Reference
    private QueueStore store;
    @Reference
    private Cleanup cleanup;

    @Override
    public DaemonInstance start(MasterEntry entry, ConfigSnapshot config) throws Exception {
        Pickup p = new Pickup(store, cleanup, config, wakeup(entry.wakeup()));
        p.start();
        return new DaemonInstance() {
            @Override
            public void stop() {
                p.stop();
            }

            @Override
            public String describe() {
                return p.describe();
            }
        };
    }

    /** master.cf's wakeup column: {@code 60}, {@code 60?}; {@code -} or 0 means the default. */
    static long wakeup(String column) {
        String digits = column.replace("?", "").strip();
        if (!digits.matches("\\d+") || Long.parseLong(digits) == 0) {
            return DEFAULT_WAKEUP;
        }
        return Long.parseLong(digits);
    }
}
