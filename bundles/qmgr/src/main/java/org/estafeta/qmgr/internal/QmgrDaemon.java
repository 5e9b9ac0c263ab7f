package org.estafeta.qmgr.internal;

import java.util.Map;

import org.estafeta.api.transport.Transport;
import org.estafeta.bounce.Bouncer;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.master.daemon.Daemon;
import org.estafeta.master.daemon.DaemonInstance;
import org.estafeta.queue.QueueFlush;
import org.estafeta.queue.QueueStore;
import org.estafeta.rewrite.AddressResolver;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * qmgr - the program master.cf's {@code qmgr} entry names ({@code qmgr unix n - n 300 1 qmgr}, or Postfix's
 * {@code fifo} type). Each start runs one {@link QueueManager} on the entry's snapshot; Transport services are
 * followed as they come and go, so a delivery needing a transport whose bundle is absent is deferred, then
 * delivered once the bundle is back.
 */
@Component(service = {Daemon.class, QueueFlush.class}, property = Daemon.COMMAND + "=qmgr", immediate = true)
public final class QmgrDaemon implements Daemon, QueueFlush {
    private final Transports transports = new Transports();
    /** The running instance (master.cf has one qmgr entry; maxproc 1). */
    private final java.util.concurrent.atomic.AtomicReference<QueueManager> running =
            new java.util.concurrent.atomic.AtomicReference<>();

    @Reference
    private QueueStore store;
    @Reference
    private AddressResolver resolver;
    @Reference
    private Bouncer bouncer;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, target = "(" + Transport.NAME + "=*)")
    void addTransport(Transport t, Map<String, Object> props) {
        Object name = props.get(Transport.NAME);
        Object id = props.get(Constants.SERVICE_ID);
        Object ranking = props.get(Constants.SERVICE_RANKING);
        if (name instanceof String n) {
            transports.add(n, t, id instanceof Long l ? l : 0L, ranking instanceof Integer i ? i : 0);
        } else if (name instanceof String[] names) {
            for (String n : names) {
                transports.add(n, t, id instanceof Long l ? l : 0L, ranking instanceof Integer i ? i : 0);
            }
        }
        QueueManager qm = running.get();
        if (qm != null) {
            qm.transportArrived();
        }
    }

    void removeTransport(Transport t) {
        transports.remove(t);
    }

    @Override
    public DaemonInstance start(MasterEntry entry, ConfigSnapshot config) throws Exception {
        QueueManager qm = new QueueManager(config, store, resolver, bouncer, transports::get);
        qm.start();
        running.set(qm);
        return new DaemonInstance() {
            @Override
            public void stop() {
                running.compareAndSet(qm, null);
                qm.stop();
            }

            @Override
            public String describe() {
                return qm.describe();
            }
        };
    }

    @Override
    public boolean flushAll() {
        QueueManager qm = running.get();
        if (qm == null) {
            return false;
        }
        qm.flush();
        return true;
    }

    @Override
    public boolean flush(String queueId) {
        QueueManager qm = running.get();
        if (qm == null) {
            return false;
        }
        qm.flush(queueId);
        return true;
    }
}
