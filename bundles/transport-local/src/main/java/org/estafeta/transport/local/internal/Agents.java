package org.estafeta.transport.local.internal;

import java.util.Optional;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.Transport;
import org.estafeta.config.MasterEntry;

/**
 * Where {@link DeliverPass} finds the delivery agent of a master.cf service, as Postfix's deliver_pass() connects to
 * {@code private/SERVICE}: the entry of that name (a {@code unix} entry first, as the queue manager picks it), the
 * {@link Transport} service registered for its command, and the plugin context the queue manager would give it (the
 * current configuration with the entry's {@code -o} overrides).
 *
 * <p>Any thread; {@link #find} does not block.
 */
interface Agents {
    /** Nothing is found: every pass fails with {@code mail transport unavailable}. */
    Agents NONE = service -> Optional.empty();

    /** The agent of {@code service}; empty when master.cf has no such entry. Close it after the delivery. */
    Optional<Agent> find(String service);

    /**
     * One master.cf delivery service.
     *
     * @param entry the master.cf entry
     * @param transport the Transport of {@code entry.command()}; null when no bundle registers one
     * @param context what the agent's deliveries get: the configuration with the entry's overrides, its logger
     * @param release gives the Transport service back
     */
    record Agent(MasterEntry entry, Transport transport, PluginContext context, Runnable release)
            implements AutoCloseable {
        @Override
        public void close() {
            release.run();
        }
    }
}
