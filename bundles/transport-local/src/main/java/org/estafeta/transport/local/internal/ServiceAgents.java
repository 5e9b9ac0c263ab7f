package org.estafeta.transport.local.internal;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import org.estafeta.api.transport.Transport;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.config.MasterEntry;
import org.estafeta.config.SnapshotPluginContext;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * {@link Agents} from the running gateway: master.cf of the current configuration snapshot and the Transport services
 * in the service registry, chosen as the queue manager chooses them (the best ranked, then the oldest). The service is
 * got for one delivery and given back by {@link Agents.Agent#close()}. Any thread.
 */
final class ServiceAgents implements Agents {
    private final ConfigSource config;
    private final BundleContext bundle;

    ServiceAgents(ConfigSource config, BundleContext bundle) {
        this.config = config;
        this.bundle = bundle;
    }

    @Override
    public Optional<Agent> find(String service) {
        ConfigSnapshot snapshot = config.current();
        MasterEntry entry = entry(snapshot, service);
        if (entry == null) {
            return Optional.empty();
        }
        SnapshotPluginContext context = new SnapshotPluginContext(snapshot.forService(entry), entry.command(),
                Clock.systemDefaultZone());
        Collection<ServiceReference<Transport>> refs;
        try {
            refs = bundle.getServiceReferences(Transport.class, "(" + Transport.NAME + "=" + escaped(entry.command()) + ")");
        } catch (InvalidSyntaxException | IllegalStateException e) {
            refs = List.of();
        }
        if (refs.isEmpty()) {
            return Optional.of(new Agent(entry, null, context, () -> { }));
        }
        // natural order: higher ranking, then lower service id, is greater
        ServiceReference<Transport> best = Collections.max(new ArrayList<>(refs));
        Transport t;
        try {
            t = bundle.getService(best);
        } catch (IllegalStateException e) {
            t = null;
        }
        if (t == null) {
            return Optional.of(new Agent(entry, null, context, () -> { }));
        }
        return Optional.of(new Agent(entry, t, context, () -> {
            try {
                bundle.ungetService(best);
            } catch (IllegalStateException e) {
                // our bundle is stopping: the framework releases it
            }
        }));
    }

    /** The entry a delivery to {@code service} uses: a {@code unix} entry, else any but {@code inet}. */
    static MasterEntry entry(ConfigSnapshot snapshot, String service) {
        MasterEntry any = null;
        for (MasterEntry e : snapshot.services()) {
            if (e.service().equals(service)) {
                if (e.type().equals("unix")) {
                    return e;
                }
                if (!e.type().equals("inet")) {
                    any = e;
                }
            }
        }
        return any;
    }

    private static String escaped(String value) {
        StringBuilder sb = new StringBuilder();
        for (char c : value.toCharArray()) {
            if (c == '\\' || c == '(' || c == ')' || c == '*') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.toString();
    }
}
