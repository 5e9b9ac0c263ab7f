package org.estafeta.pickup.internal;

import java.util.Optional;

import org.estafeta.bounce.Bouncer;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.master.daemon.Daemon;
import org.estafeta.master.daemon.DaemonInstance;
import org.estafeta.queue.QueueStore;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The program master.cf's {@code pickup} entry names ({@code pickup unix n - n 60 1 pickup}): each start runs one
 * {@link Pickup} with the entry's snapshot (its {@code -o content_filter=} applies to local mail) and the entry's
 * wakeup time (default 60 s). Mail that cleanup rejects for good is returned to its sender through the
 * {@link Bouncer} when one is registered; while none is, such mail stays in maildrop/.
 */
@Component(service = Daemon.class, property = Daemon.COMMAND + "=pickup", immediate = true)
public final class PickupDaemon implements Daemon {
    static final long DEFAULT_WAKEUP = 60;

    @Reference
    private QueueStore store;
    @Reference
    private Cleanup cleanup;
    /** Optional, so that pickup starts without the bounce bundle (rejected mail then waits in maildrop/). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Bouncer bouncer;

    @Override
    public DaemonInstance start(MasterEntry entry, ConfigSnapshot config) throws Exception {
        Pickup p = new Pickup(store, cleanup, () -> Optional.ofNullable(bouncer), config, wakeup(entry.wakeup()));
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
