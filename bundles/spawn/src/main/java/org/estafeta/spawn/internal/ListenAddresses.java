package org.estafeta.spawn.internal;

import java.nio.file.Path;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;

/**
 * Where a {@code unix} spawn entry listens: the socket {@code $queue_directory/private/<service>}, or {@code public/}
 * when the private column is {@code n}. ({@code inet} entries: {@link org.estafeta.master.daemon.ListenAddresses},
 * as smtpd's.)
 */
final class ListenAddresses {
    private ListenAddresses() {
    }

    /** The socket file of a {@code unix} entry. */
    static Path unix(MasterEntry entry, ConfigSnapshot config) {
        String queue = config.get("queue_directory").orElse("");
        if (queue.isEmpty()) {
            throw new IllegalArgumentException("queue_directory is not set");
        }
        if (entry.service().isEmpty() || entry.service().contains("/") || entry.service().equals("..")) {
            throw new IllegalArgumentException("bad unix service name \"" + entry.service() + "\"");
        }
        String dir = entry.privateAccess().equalsIgnoreCase("n") ? "public" : "private";
        return Path.of(queue, dir, entry.service());
    }
}
