package org.estafeta.master.internal;

import java.util.ArrayList;
import java.util.List;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.master.daemon.Daemon;
import org.estafeta.master.daemon.DaemonInstance;

/** A Daemon that records starts and stops; an entry whose service is in {@link #refuse} fails to start. */
final class FakeDaemon implements Daemon {
    final String name;
    final List<String> events = new ArrayList<>();
    final List<Instance> running = new ArrayList<>();
    volatile String refuse = "";

    FakeDaemon(String name) {
        this.name = name;
    }

    final class Instance implements DaemonInstance {
        final MasterEntry entry;
        final ConfigSnapshot config;

        Instance(MasterEntry entry, ConfigSnapshot config) {
            this.entry = entry;
            this.config = config;
        }

        @Override
        public void stop() {
            synchronized (FakeDaemon.this) {
                events.add("stop " + entry.id());
                running.remove(this);
            }
        }

        @Override
        public String describe() {
            return name + " listening on " + entry.service();
        }
    }

    @Override
    public synchronized DaemonInstance start(MasterEntry entry, ConfigSnapshot config) throws Exception {
        if (refuse.equals(entry.service())) {
            events.add("refuse " + entry.id());
            throw new java.net.BindException(entry.service() + ": Address already in use");
        }
        events.add("start " + entry.id());
        Instance i = new Instance(entry, config);
        running.add(i);
        return i;
    }

    synchronized List<String> takeEvents() {
        List<String> out = List.copyOf(events);
        events.clear();
        return out;
    }
}
