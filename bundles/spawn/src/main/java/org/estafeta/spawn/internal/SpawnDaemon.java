package org.estafeta.spawn.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.master.daemon.Daemon;
import org.estafeta.master.daemon.DaemonInstance;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * master.cf's {@code spawn} command, Postfix's spawn(8), for {@code inet} and {@code unix} entries, for example
 * tutorial section 6.3's {@code localhost:10025 inet n n n - 10 spawn user=seguro argv=/path/scan localhost 10026}.
 * Each start reads the entry's attributes and account once (blocking for the account lookup), binds its sockets and
 * returns a {@link SpawnInstance} that runs the command once per connection. An unusable entry (missing
 * {@code user=}, root, unknown user …) is refused with spawn(8)'s fatal text, prefixed with the entry's name.
 */
@Component(service = Daemon.class, property = Daemon.COMMAND + "=spawn")
public final class SpawnDaemon implements Daemon {
    private static final Logger LOG = LoggerFactory.getLogger("spawn");
    private static final Logger MASTER_LOG = LoggerFactory.getLogger("master");

    @Override
    public DaemonInstance start(MasterEntry entry, ConfigSnapshot config) throws Exception {
        boolean inet = "inet".equals(entry.type());
        if (!inet && !"unix".equals(entry.type())) {
            throw new IllegalArgumentException(entry.id() + ": spawn supports only inet and unix entries (this one is "
                    + entry.type() + ")");
        }
        SpawnSettings settings;
        try {
            settings = SpawnSettings.from(entry, config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(entry.id() + ": fatal: " + e.getMessage(), e);
        }
        try {
            if (inet) {
                List<InetSocketAddress> addresses = org.estafeta.master.daemon.ListenAddresses.resolve(
                        entry.service(), org.estafeta.master.daemon.ListenAddresses.inetInterfaces(config));
                SpawnInstance instance = new SpawnInstance(entry.service(), canonicalName(entry.service(), addresses),
                        settings, LOG, MASTER_LOG);
                instance.bindInet(addresses);
                return instance;
            }
            var socket = ListenAddresses.unix(entry, config);
            SpawnInstance instance = new SpawnInstance(entry.service(),
                    socket.getParent().getFileName() + "/" + entry.service(), settings, LOG, MASTER_LOG);
            instance.bindUnix(socket);
            return instance;
        } catch (IllegalArgumentException | IOException e) {
            throw new IllegalArgumentException(entry.id() + ": fatal: " + e.getMessage(), e);
        }
    }

    /** Postfix master's internal name of an inet service: the port number, or {@code [address]:port}. */
    static String canonicalName(String service, List<InetSocketAddress> addresses) {
        int port = addresses.get(0).getPort();
        boolean hostGiven = service.startsWith("[") || service.indexOf(':') >= 0;
        return hostGiven ? "[" + addresses.get(0).getAddress().getHostAddress() + "]:" + port : String.valueOf(port);
    }
}
