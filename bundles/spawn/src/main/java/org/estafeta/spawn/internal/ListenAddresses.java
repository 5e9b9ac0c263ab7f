package org.estafeta.spawn.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;

/**
 * Where a spawn entry listens, as Postfix's master reads the service column. {@code inet}: {@code port},
 * {@code host:port} or {@code [address]:port} (a bare port is bound on every address of {@code inet_interfaces});
 * {@code unix}: the socket {@code $queue_directory/private/<service>}, or {@code public/} when the private column is
 * {@code n}. Host names are looked up on the caller's thread.
 */
final class ListenAddresses {
    private ListenAddresses() {
    }

    /**
     * The addresses of an {@code inet} entry.
     *
     * @throws IllegalArgumentException naming the bad part of the value
     */
    static List<InetSocketAddress> inet(String service, List<String> inetInterfaces) {
        String host;
        String port;
        if (service.startsWith("[")) {
            int close = service.indexOf(']');
            if (close < 0 || close + 1 >= service.length() || service.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("missing \"]:port\" in \"" + service + "\"");
            }
            host = service.substring(1, close);
            port = service.substring(close + 2);
        } else {
            int colon = service.lastIndexOf(':');
            host = colon < 0 ? "" : service.substring(0, colon);
            port = colon < 0 ? service : service.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("an IPv6 address must be written as [address]:port in \""
                        + service + "\"");
            }
        }
        if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            throw new IllegalArgumentException("bad port number \"" + port + "\" in \"" + service + "\"");
        }
        int portNumber = Integer.parseInt(port);
        Set<InetSocketAddress> result = new LinkedHashSet<>();
        if (!host.isEmpty()) {
            for (InetAddress address : addresses(host, service)) {
                result.add(new InetSocketAddress(address, portNumber));
            }
            return List.copyOf(result);
        }
        for (String item : inetInterfaces.isEmpty() ? List.of("all") : inetInterfaces) {
            String name = item.toLowerCase(Locale.ROOT);
            if (name.equals("all")) {
                return List.of(new InetSocketAddress(portNumber));
            }
            if (name.equals("loopback-only")) {
                result.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), portNumber));
                continue;
            }
            String literal = item.startsWith("[") && item.endsWith("]") ? item.substring(1, item.length() - 1) : item;
            for (InetAddress address : addresses(literal, "inet_interfaces")) {
                result.add(new InetSocketAddress(address, portNumber));
            }
        }
        return new ArrayList<>(result);
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

    private static InetAddress[] addresses(String host, String context) {
        try {
            return InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad hostname or network address \"" + host + "\" in \"" + context
                    + "\"");
        }
    }
}
