package org.estafeta.dns.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.estafeta.config.ConfigSnapshot;

/**
 * The resolver's parameters from a configuration snapshot.
 *
 * @param servers from {@code estafeta_dns_servers}; empty means the nameservers of /etc/resolv.conf
 * @param timeout {@code estafeta_dns_timeout}: the longest a lookup (with its retries) takes
 * @param problems entries of {@code estafeta_dns_servers} that were skipped, and why
 * @param configured whether {@code estafeta_dns_servers} names servers (even if none of them is usable)
 */
record DnsSettings(List<InetSocketAddress> servers, Duration timeout, List<String> problems, boolean configured) {
    static final String SERVERS = "estafeta_dns_servers";
    static final String TIMEOUT = "estafeta_dns_timeout";
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    static DnsSettings from(ConfigSnapshot snapshot) {
        List<String> problems = new ArrayList<>();
        Duration timeout = DEFAULT_TIMEOUT;
        try {
            long s = snapshot.get(TIMEOUT).isEmpty() ? DEFAULT_TIMEOUT.toSeconds() : snapshot.seconds(TIMEOUT);
            if (s < 1) {
                problems.add(TIMEOUT + ": must be at least 1s, using " + DEFAULT_TIMEOUT.toSeconds() + "s");
            } else {
                timeout = Duration.ofSeconds(s);
            }
        } catch (RuntimeException e) {
            problems.add(TIMEOUT + ": " + e.getMessage() + "; using " + DEFAULT_TIMEOUT.toSeconds() + "s");
        }
        List<String> specs = snapshot.get(SERVERS).isPresent() ? snapshot.list(SERVERS) : List.of();
        List<InetSocketAddress> servers = new ArrayList<>();
        for (String spec : specs) {
            try {
                InetSocketAddress a = parseServer(spec);
                if (!servers.contains(a)) {
                    servers.add(a);
                }
            } catch (IllegalArgumentException e) {
                problems.add(SERVERS + ": " + e.getMessage());
            }
        }
        return new DnsSettings(List.copyOf(servers), timeout, List.copyOf(problems), !specs.isEmpty());
    }

    /**
     * One server: {@code host}, {@code host:port}, an IPv4 or IPv6 address, {@code [IPv6]} or {@code [IPv6]:port}.
     * The default port is 53. A host name is resolved once, here, with the system resolver.
     */
    static InetSocketAddress parseServer(String spec) {
        String host;
        String port = null;
        if (spec.startsWith("[")) {
            int close = spec.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("missing ']' in \"" + spec + "\"");
            }
            host = spec.substring(1, close);
            String rest = spec.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("bad server \"" + spec + "\"");
                }
                port = rest.substring(1);
            }
        } else {
            int colon = spec.indexOf(':');
            if (colon >= 0 && spec.indexOf(':', colon + 1) < 0) {
                host = spec.substring(0, colon);
                port = spec.substring(colon + 1);
            } else {
                host = spec; // a name, an IPv4 address or a bare IPv6 address
            }
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("missing host in \"" + spec + "\"");
        }
        int p = 53;
        if (port != null) {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                p = -1;
            }
            if (p < 1 || p > 65535) {
                throw new IllegalArgumentException("bad port in \"" + spec + "\"");
            }
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), p);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("unknown host in \"" + spec + "\"");
        }
    }
}
