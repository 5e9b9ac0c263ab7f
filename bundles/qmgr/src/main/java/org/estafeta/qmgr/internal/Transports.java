package org.estafeta.qmgr.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.estafeta.api.transport.Transport;

/**
 * The Transport services present now, by {@code estafeta.transport} name; the best ranked (then the oldest) wins
 * when two bundles offer the same name. Any thread.
 */
final class Transports {
    private record Registration(Transport transport, long serviceId, int ranking) {
    }

    private final Map<String, List<Registration>> byName = new ConcurrentHashMap<>();

    void add(String name, Transport t, long serviceId, int ranking) {
        byName.compute(name, (n, list) -> {
            List<Registration> l = list == null ? new ArrayList<>() : new ArrayList<>(list);
            l.add(new Registration(t, serviceId, ranking));
            l.sort((a, b) -> a.ranking != b.ranking ? Integer.compare(b.ranking, a.ranking)
                    : Long.compare(a.serviceId, b.serviceId));
            return List.copyOf(l);
        });
    }

    void remove(Transport t) {
        for (String name : List.copyOf(byName.keySet())) {
            byName.computeIfPresent(name, (n, list) -> {
                List<Registration> l = new ArrayList<>(list);
                l.removeIf(r -> r.transport == t);
                return l.isEmpty() ? null : List.copyOf(l);
            });
        }
    }

    Optional<Transport> get(String name) {
        List<Registration> l = byName.get(name);
        return l == null || l.isEmpty() ? Optional.empty() : Optional.of(l.get(0).transport);
    }
}
