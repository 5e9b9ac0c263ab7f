package org.estafeta.cleanup.internal;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.estafeta.api.filter.ContentFilter;

/**
 * The filter services present now ({@link org.estafeta.api.filter.SessionFilter} and {@link ContentFilter}), by their
 * {@value ContentFilter#NAME} name. When several bundles
 * register the same name, the one with the highest {@code service.ranking} (then the lowest service id) wins, as
 * OSGi's own service selection does. Thread-safe: services come and go on the framework's threads while cleanup looks
 * them up on worker threads.
 */
final class FilterRegistry {
    /**
     * One registered filter.
     *
     * @param name its {@value ContentFilter#NAME}
     * @param service the service: a {@link org.estafeta.api.filter.SessionFilter} or a {@link ContentFilter}
     * @param origin the registering bundle as the maillog names it: {@code symbolic-name version}
     * @param ranking its {@code service.ranking}
     * @param serviceId its {@code service.id} (a tie-breaker: older wins)
     */
    record Entry(String name, Object service, String origin, int ranking, long serviceId) {
        Entry {
            if (!(service instanceof ContentFilter) && !(service instanceof org.estafeta.api.filter.SessionFilter)) {
                throw new IllegalArgumentException("not a filter service: " + service);
            }
        }

        /**
         * A new session of this filter: a {@link org.estafeta.api.filter.SessionFilter}'s own, or for a
         * {@link ContentFilter} one that waits for the end of the message and asks it then.
         */
        org.estafeta.api.filter.FilterSession open(org.estafeta.api.plugin.PluginContext context) {
            if (service instanceof org.estafeta.api.filter.SessionFilter sf) {
                org.estafeta.api.filter.FilterSession s = sf.open(context);
                if (s == null) {
                    throw new IllegalStateException("the filter opened no session");
                }
                return s;
            }
            ContentFilter cf = (ContentFilter) service;
            return new org.estafeta.api.filter.FilterSession() {
                @Override
                public org.estafeta.api.filter.FilterVerdict endOfMessage(org.estafeta.api.message.Envelope envelope,
                        org.estafeta.api.message.MessageContent content) {
                    return cf.filter(envelope, content, context);
                }
            };
        }
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

    /** Whether the registration with this service id is still there. */
    boolean registered(long serviceId) {
        return entries.stream().anyMatch(e -> e.serviceId() == serviceId);
    }

    /** The filter registered under {@code name}, or empty when no installed bundle provides it. */
    Optional<Entry> find(String name) {
        return entries.stream().filter(e -> e.name().equals(name)).min(BEST);
    }
}
