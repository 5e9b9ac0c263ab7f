package org.estafeta.master.daemon;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.estafeta.config.ConfigSnapshot;

/**
 * The socket addresses an {@code inet} entry listens on, from its service column as Postfix's master reads it:
 * {@code port}, {@code host:port} or {@code [address]:port}, where port is a number or a service name. A bare port
 * is bound on every address of {@code inet_interfaces}: {@code all} is the wildcard address, {@code loopback-only}
 * is 127.0.0.1, anything else is a list of addresses or host names. Shared by the daemons that listen on
 * {@code inet} entries (smtpd, spawn).
 *
 * @since 1.1
 */
public final class ListenAddresses {
    /**
     * Service names for ports. Postfix asks {@code /etc/services}; a gateway should not depend on that file, so this
     * is the part of it that matters for SMTP-family listeners.
     */
    public static final Map<String, Integer> SERVICE_PORTS = Map.of(
            "smtp", 25,
            "submission", 587,
            "smtps", 465,
            "submissions", 465,
            "lmtp", 24);

    /** Postfix's default for {@code inet_interfaces}, used until the config registry knows the parameter. */
    public static final String DEFAULT_INET_INTERFACES = "all";

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private ListenAddresses() {
    }

    /**
     * Resolves the service column. {@code inetInterfaces} is the snapshot's {@code inet_interfaces} list. Host names
     * are looked up here (this runs on the caller's thread, never on an event loop).
     *
     * @throws IllegalArgumentException naming the bad part of the value
     */
    public static List<InetSocketAddress> resolve(String service, List<String> inetInterfaces) {
        String host;
        String port;
        if (service.startsWith("[")) {
            int close = service.indexOf(']');
            if (close < 0 || close + 1 >= service.length() || service.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("missing \"]:port\" in \"" + service + "\"");
            }
            host = service.substring(1, close);
            port = service.substring(close + 2);
            if (host.isEmpty()) {
                throw new IllegalArgumentException("missing address in \"" + service + "\"");
            }
        } else {
            int colon = service.lastIndexOf(':');
            if (colon >= 0) {
                host = service.substring(0, colon);
                port = service.substring(colon + 1);
                if (host.indexOf(':') >= 0) {
                    throw new IllegalArgumentException("an IPv6 address must be written as [address]:port in \"" + service + "\"");
                }
            } else {
                host = "";
                port = service;
            }
        }
        int portNumber = port(port, service);
        Set<InetSocketAddress> result = new LinkedHashSet<>();
        if (!host.isEmpty()) {
            for (InetAddress address : addresses(host, service)) {
                result.add(new InetSocketAddress(address, portNumber));
            }
            return List.copyOf(result);
        }
        List<String> interfaces = inetInterfaces.isEmpty() ? List.of(DEFAULT_INET_INTERFACES) : inetInterfaces;
        for (String item : interfaces) {
            String name = item.toLowerCase(Locale.ROOT);
            if (name.equals("all")) {
                // The wildcard address: one socket for every local address (dual stack where the system has IPv6).
                return List.of(new InetSocketAddress(portNumber));
            }
            if (name.equals("loopback-only")) {
                result.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), portNumber));
                continue;
            }
            String literal = item.startsWith("[") && item.endsWith("]") ? item.substring(1, item.length() - 1) : item;
            for (InetAddress address : addresses(literal, "inet_interfaces = " + String.join(", ", inetInterfaces))) {
                result.add(new InetSocketAddress(address, portNumber));
            }
        }
        return new ArrayList<>(result);
    }

    private static int port(String port, String context) {
        if (port.isEmpty()) {
            throw new IllegalArgumentException("missing port in \"" + context + "\"");
        }
        if (port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            int value;
            try {
                value = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                value = -1;
            }
            if (value < 1 || value > 65535) {
                throw new IllegalArgumentException("bad port number \"" + port + "\" in \"" + context + "\"");
            }
            return value;
        }
        Integer known = SERVICE_PORTS.get(port.toLowerCase(Locale.ROOT));
        if (known == null) {
            throw new IllegalArgumentException("unknown service name \"" + port + "\" in \"" + context + "\" (known: "
                    + String.join(", ", new java.util.TreeSet<>(SERVICE_PORTS.keySet())) + ")");
        }
        return known;
    }

    private static InetAddress[] addresses(String host, String context) {
        try {
            if (IPV4.matcher(host).matches()) {
                for (String octet : host.split("\\.")) {
                    if (Integer.parseInt(octet) > 255) {
                        throw new UnknownHostException(host);
                    }
                }
                return new InetAddress[] {InetAddress.getByName(host)};
            }
            if (host.indexOf(':') >= 0) {
                // A literal: getByName parses it without asking DNS, and rejects a malformed one.
                return new InetAddress[] {InetAddress.getByName(host)};
            }
            return InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad hostname or network address \"" + host + "\" in \"" + context + "\"");
        }
    }

    /** The snapshot's {@code inet_interfaces} list, or Postfix's default when the registry does not know it yet. */
    public static List<String> inetInterfaces(ConfigSnapshot config) {
        return config.get("inet_interfaces").isPresent() ? config.list("inet_interfaces") : List.of(DEFAULT_INET_INTERFACES);
    }
}
