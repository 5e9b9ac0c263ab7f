package org.estafeta.transport.smtp.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.estafeta.dns.DnsResolver;
import org.estafeta.dns.DnsResult;
import org.estafeta.dns.MxRecord;
import org.slf4j.Logger;

import io.netty.util.NetUtil;

/**
 * From a next hop to the addresses to try, as Postfix's smtp_addr.c does it: MX lookup (smtp only, not for
 * {@code [host]}, not with {@code smtp_host_lookup = native}), MX hosts sorted by preference and shuffled among
 * equal preference, a plain address lookup when there is no MX record, and Postfix's texts and status codes
 * for every failure.
 */
final class HostFinder {
    /** Longest wait for one answer; the resolver's own timeout is shorter. */
    private static final long DNS_WAIT_SECONDS = 120;

    /**
     * One address to try: an internet address and port, or (lmtp's {@code unix:} next hop) a UNIX-domain socket,
     * then {@code host} is {@code $myhostname}, {@code address} null, {@code port} 0, {@code unixPath} the path as
     * written and {@code unixSocket} where it is (a relative path resolved under {@code queue_directory}).
     */
    record Target(String host, InetAddress address, int port, int preference, String unixPath, Path unixSocket) {
        Target(String host, InetAddress address, int port, int preference) {
            this(host, address, port, preference, null, null);
        }

        /** The socket {@code path} (as written, found at {@code socket}) of a {@code unix:} next hop. */
        static Target unix(String myhostname, String path, Path socket) {
            return new Target(myhostname, null, 0, 0, path, socket);
        }

        boolean isUnix() {
            return unixSocket != null;
        }

        /** The address as Postfix prints it; for a UNIX-domain socket its path as written. */
        String addressText() {
            return isUnix() ? unixPath : NetUtil.toAddressString(address);
        }

        /** {@code host[address]}, Postfix's namaddr; {@code myhostname[private/dovecot-lmtp]} for a socket. */
        String namaddr() {
            return host + "[" + addressText() + "]";
        }

        /**
         * {@code host[address]:port}, Postfix's namaddrport (the {@code relay=} field); without a port (namaddr) for a
         * UNIX-domain socket, as smtp_session_alloc() writes it when the port is 0.
         */
        String namaddrport() {
            return isUnix() ? namaddr() : namaddr() + ":" + port;
        }

        /** What to connect to. */
        SocketAddress socketAddress() {
            return isUnix() ? UnixDomainSocketAddress.of(unixSocket) : new InetSocketAddress(address, port);
        }
    }

    /** The addresses found (possibly none) and the reason when there are none or some lookups failed. */
    record Found(List<Target> targets, Why why) {
    }

    private final DnsResolver resolver;
    private final ClientSettings settings;
    private final Logger log;

    HostFinder(DnsResolver resolver, ClientSettings settings, Logger log) {
        this.resolver = resolver;
        this.settings = settings;
        this.log = log;
    }

    Found find(NextHop hop) {
        boolean mx = !settings.lmtp() && !hop.bracketed() && settings.dnsLookup();
        return mx ? domainAddr(hop) : hostAddr(hop.host(), hop.port(), 0, null);
    }

    /** smtp_domain_addr(): MX records, else the domain's own addresses. */
    private Found domainAddr(NextHop hop) {
        String domain = hop.host();
        DnsResult<MxRecord> mx = await(resolver.mx(domain), domain + "/MX");
        if (mx instanceof DnsResult.TemporaryFailure<MxRecord>) {
            return new Found(List.of(), Why.local("4.4.3", nameServiceError(domain, "MX", "Host not found, try again")));
        }
        if (mx instanceof DnsResult.NotFound<MxRecord> nf) {
            if (nf.reason() == DnsResult.NotFoundReason.MALFORMED_NAME) {
                return new Found(List.of(), Why.local("5.4.4",
                        "Name service error for " + domain + ": invalid host or domain name"));
            }
            return hostAddr(domain, hop.port(), 0, null);
        }
        List<MxRecord> records = new ArrayList<>(mx.values());
        if (records.stream().anyMatch(MxRecord::isNullMx)) {
            return new Found(List.of(), Why.local("5.1.0", "Domain " + domain + " does not accept mail (nullMX)"));
        }
        Collections.shuffle(records, ThreadLocalRandom.current());
        records.sort(Comparator.comparingInt(MxRecord::preference));
        List<Target> targets = new ArrayList<>();
        Why why = null;
        for (MxRecord r : records) {
            Found f = hostAddr(r.host(), hop.port(), r.preference(), why);
            targets.addAll(f.targets());
            if (f.why() != null) {
                why = f.why();
            }
        }
        if (targets.isEmpty()) {
            log.warn("no MX host for {} has a valid address record", domain);
            if (settings.deferIfNoMxAddress() && why != null) {
                why = why.soft();
            }
            return new Found(List.of(), why);
        }
        return new Found(sorted(targets), why);
    }

    /** Shuffled, then sorted by preference and by address family as smtp_address_preference says. */
    private List<Target> sorted(List<Target> targets) {
        List<Target> out = new ArrayList<>(targets);
        Collections.shuffle(out, ThreadLocalRandom.current());
        Comparator<Target> order = Comparator.comparingInt(Target::preference);
        if (settings.addressPreference().equals("ipv4")) {
            order = order.thenComparing(t -> t.address() instanceof Inet4Address ? 0 : 1);
        } else if (settings.addressPreference().equals("ipv6")) {
            order = order.thenComparing(t -> t.address() instanceof Inet6Address ? 0 : 1);
        }
        out.sort(order);
        return out;
    }

    /**
     * smtp_host_addr(): the addresses of one host (an IP literal as it is). A soft error found earlier
     * ({@code previous}) dominates: a later hard error then keeps a soft status, as Postfix's comments say.
     */
    private Found hostAddr(String host, int port, int pref, Why previous) {
        InetAddress literal = literal(host);
        if (literal != null) {
            return new Found(List.of(new Target(host, literal, port, pref)), null);
        }
        boolean soft = previous != null && previous.isSoft();
        Why why = null;
        if (settings.dnsLookup()) {
            boolean v4 = settings.ipv4();
            boolean v6 = settings.ipv6();
            CompletionStage<DnsResult<InetAddress>> stage = v4 && v6 ? resolver.addresses(host)
                    : v6 ? resolver.aaaa(host) : resolver.a(host);
            String type = v6 ? "AAAA" : "A";
            DnsResult<InetAddress> r = await(stage, host + "/" + type);
            if (r.isFound()) {
                return new Found(targets(host, r.values(), port, pref), null);
            }
            if (r instanceof DnsResult.TemporaryFailure<InetAddress>) {
                return new Found(List.of(), Why.local("4.4.3", nameServiceError(host, type, "Host not found, try again")));
            }
            DnsResult.NotFoundReason reason = ((DnsResult.NotFound<InetAddress>) r).reason();
            why = switch (reason) {
                case MALFORMED_NAME -> Why.local(soft ? "4.4.4" : "5.4.4",
                        "Name service error for " + host + ": invalid host or domain name");
                case NXDOMAIN -> Why.local(soft ? "4.4.4" : "5.4.4", nameServiceError(host, type, "Host not found"));
                case NO_DATA -> Why.local(soft ? "4.4.4" : "5.4.4",
                        nameServiceError(host, type, "Host found but no data record of requested type"));
            };
            soft = why.isSoft();
            if (!settings.nativeLookup()) {
                return new Found(List.of(), why);
            }
        }
        try {
            List<InetAddress> found = new ArrayList<>();
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (a instanceof Inet4Address ? settings.ipv4() : settings.ipv6()) {
                    found.add(a);
                }
            }
            if (found.isEmpty()) {
                return new Found(List.of(), Why.local(soft ? "4.4.4" : "5.4.4", host + ": host not found"));
            }
            return new Found(targets(host, found, port, pref), null);
        } catch (UnknownHostException e) {
            String msg = e.getMessage() == null ? "Name or service not known" : e.getMessage();
            msg = msg.startsWith(host + ": ") ? msg.substring(host.length() + 2) : msg;
            boolean again = msg.contains("Temporary failure") || msg.contains("try again");
            return new Found(List.of(), Why.local(soft || again ? "4.4.4" : "5.4.4",
                    "unable to look up host " + host + ": " + msg));
        }
    }

    private static List<Target> targets(String host, List<InetAddress> addresses, int port, int pref) {
        List<Target> out = new ArrayList<>();
        for (InetAddress a : addresses) {
            out.add(new Target(host, a, port, pref));
        }
        return out;
    }

    /** An IPv4 or IPv6 address literal, else null (no lookup is done). */
    static InetAddress literal(String host) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(host);
        if (bytes == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    static String nameServiceError(String name, String type, String error) {
        return "Host or domain name not found. Name service error for name=" + name + " type=" + type + ": " + error;
    }

    private static <T> DnsResult<T> await(CompletionStage<DnsResult<T>> stage, String query) {
        try {
            return stage.toCompletableFuture().get(DNS_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DnsResult.TemporaryFailure<>(query, "interrupted");
        } catch (Exception e) {
            return new DnsResult.TemporaryFailure<>(query, String.valueOf(e));
        }
    }
}
