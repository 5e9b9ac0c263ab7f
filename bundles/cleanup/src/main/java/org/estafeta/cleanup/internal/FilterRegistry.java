package org.estafeta.cleanup.internal;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.estafeta.api.filter.ContentFilter;

/**
 * The {@link ContentFilter} services present now, by their {@value ContentFilter#NAME} name. When several bundles
 * register the same name, the one with the highest {@code service.ranking} (then the lowest service id) wins, as
 * OSGi's own service selection does. Thread-safe: services come and go on the framework's threads while cleanup looks
 * them up on worker threads.
 */
final class FilterRegistry {
    /**
     * One registered filter.
     *
     * @param name its {@value ContentFilter#NAME}
     * @param filter the service
     * @param origin the registering bundle as the maillog names it: {@code symbolic-name version}
     * @param ranking its {@code service.ranking}
     * @param serviceId its {@code service.id} (a tie-breaker: older wins)
     */
    record Entry(String name, ContentFilter filter, String origin, int ranking, long serviceId) {
    }

    private static final Comparator<Entry> BEST =
            Comparator.comparingInt(Entry::ranking).reversed().thenComparingLong(Entry::serviceId);

    private final List<Entry> entries = new CopyOnWriteArrayList<>();

    void add(Entry e) {
        entries.add(e);
    }

    /**
     * Removes one registration (unbind), by its service id: one object registered under two names keeps its other
     * registration.
     */
    void remove(long serviceId) {
        entries.removeIf(e -> e.serviceId() == serviceId);
    }

    /** The filter registered under {@code name}, or empty when no installed bundle provides it. */
    Optional<Entry> find(String name) {
        return entries.stream().filter(e -> e.name().equals(name)).min(BEST);
    }
}
