package org.estafeta.dns.internal;

import java.net.IDN;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

import org.estafeta.dns.ClientName;
import org.estafeta.dns.DnsResolver;
import org.estafeta.dns.DnsResult;
import org.estafeta.dns.DnsblResult;
import org.estafeta.dns.MxRecord;
import org.estafeta.dns.Outcome;
import org.estafeta.dns.ReverseNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/** {@link DnsResolver} on dnsjava: each call runs on the engine that is current when it starts. */
final class DnsjavaResolver implements DnsResolver {
    private static final Logger log = LoggerFactory.getLogger(DnsEngine.LOGGER);

    private final Supplier<DnsEngine> engine;

    DnsjavaResolver(Supplier<DnsEngine> engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    @Override
    public CompletionStage<DnsResult<InetAddress>> a(String name) {
        return lookup(engine.get(), name, Type.A, DnsjavaResolver::address).minimalCompletionStage();
    }

    @Override
    public CompletionStage<DnsResult<InetAddress>> aaaa(String name) {
        return lookup(engine.get(), name, Type.AAAA, DnsjavaResolver::address).minimalCompletionStage();
    }

    @Override
    public CompletionStage<DnsResult<InetAddress>> addresses(String name) {
        DnsEngine e = engine.get();
        CompletableFuture<DnsResult<InetAddress>> v4 = lookup(e, name, Type.A, DnsjavaResolver::address);
        CompletableFuture<DnsResult<InetAddress>> v6 = lookup(e, name, Type.AAAA, DnsjavaResolver::address);
        return v4.thenCombine(v6, (a, b) -> combine(displayName(name) + "/A+AAAA", a, b)).minimalCompletionStage();
    }

    static DnsResult<InetAddress> combine(String query, DnsResult<InetAddress> a, DnsResult<InetAddress> b) {
        if (a.isFound() || b.isFound()) {
            List<InetAddress> all = new ArrayList<>(a.values());
            all.addAll(b.values());
            Duration ttl = a instanceof DnsResult.Found<InetAddress> fa
                    ? (b instanceof DnsResult.Found<InetAddress> fb && fb.ttl().compareTo(fa.ttl()) < 0 ? fb.ttl()
                            : fa.ttl())
                    : ((DnsResult.Found<InetAddress>) b).ttl();
            return new DnsResult.Found<>(query, all, ttl);
        }
        if (a instanceof DnsResult.TemporaryFailure<InetAddress> t) {
            return new DnsResult.TemporaryFailure<>(query, t.reason());
        }
        if (b instanceof DnsResult.TemporaryFailure<InetAddress> t) {
            return new DnsResult.TemporaryFailure<>(query, t.reason());
        }
        DnsResult.NotFoundReason ra = ((DnsResult.NotFound<InetAddress>) a).reason();
        DnsResult.NotFoundReason rb = ((DnsResult.NotFound<InetAddress>) b).reason();
        return new DnsResult.NotFound<>(query, ra == rb ? ra : DnsResult.NotFoundReason.NO_DATA);
    }

    @Override
    public CompletionStage<DnsResult<MxRecord>> mx(String domain) {
        return lookup(engine.get(), domain, Type.MX, r -> {
            MXRecord mx = (MXRecord) r;
            return new MxRecord(mx.getPriority(), text(mx.getTarget()));
        }).thenApply(DnsjavaResolver::sortMx).minimalCompletionStage();
    }

    private static DnsResult<MxRecord> sortMx(DnsResult<MxRecord> r) {
        if (r instanceof DnsResult.Found<MxRecord> f) {
            List<MxRecord> sorted = new ArrayList<>(f.values());
            sorted.sort(Comparator.comparingInt(MxRecord::preference)); // stable: server order within a preference
            return new DnsResult.Found<>(f.query(), sorted, f.ttl());
        }
        return r;
    }

    @Override
    public CompletionStage<DnsResult<String>> ptr(InetAddress address) {
        return ptr(engine.get(), address).minimalCompletionStage();
    }

    private CompletableFuture<DnsResult<String>> ptr(DnsEngine e, InetAddress address) {
        List<String> local = HostsFile.SYSTEM.names(address);
        if (!local.isEmpty()) {
            return done(new DnsResult.Found<>(ReverseNames.ptrName(address) + "/PTR", List.of(local.get(0)),
                    java.time.Duration.ZERO));
        }
        return lookup(e, ReverseNames.ptrName(address), Type.PTR, r -> text(((PTRRecord) r).getTarget()));
    }

    @Override
    public CompletionStage<DnsResult<String>> txt(String name) {
        return txt(engine.get(), name).minimalCompletionStage();
    }

    private CompletableFuture<DnsResult<String>> txt(DnsEngine e, String name) {
        return lookup(e, name, Type.TXT, r -> {
            StringBuilder sb = new StringBuilder();
            for (byte[] s : ((TXTRecord) r).getStringsAsByteArrays()) {
                sb.append(new String(s, StandardCharsets.UTF_8));
            }
            return sb.toString();
        });
    }

    @Override
    public CompletionStage<ClientName> clientName(InetAddress address) {
        Objects.requireNonNull(address, "address");
        DnsEngine e = engine.get();
        String addr = address.getHostAddress();
        return ptr(e, address).thenCompose(reverse -> {
            if (reverse instanceof DnsResult.TemporaryFailure<String> t) {
                return done(new ClientName(address, ClientName.UNKNOWN, Outcome.TEMPORARY_FAILURE,
                        ClientName.UNKNOWN, Outcome.TEMPORARY_FAILURE,
                        "reverse lookup of " + addr + " failed: " + t.reason()));
            }
            if (reverse instanceof DnsResult.NotFound<String>) {
                return done(new ClientName(address, ClientName.UNKNOWN, Outcome.NOT_FOUND, ClientName.UNKNOWN,
                        Outcome.NOT_FOUND, "no PTR record for " + addr));
            }
            List<String> names = new ArrayList<>();
            for (String n : reverse.values()) {
                String lower = n.toLowerCase(Locale.ROOT);
                if (validHostname(lower)) {
                    if (!names.contains(lower)) {
                        names.add(lower);
                    }
                } else {
                    log.warn("{}: malformed domain name in resource data of PTR record: {}", addr, n);
                }
            }
            if (names.isEmpty()) {
                return done(new ClientName(address, ClientName.UNKNOWN, Outcome.NOT_FOUND, ClientName.UNKNOWN,
                        Outcome.NOT_FOUND, "no valid host name in the PTR records of " + addr));
            }
            return confirm(e, address, names, 0, null);
        }).minimalCompletionStage();
    }

    /** Tries names[i..] in turn until one resolves back to address. */
    private CompletableFuture<ClientName> confirm(DnsEngine e, InetAddress address, List<String> names, int i,
            String temporary) {
        String reverseName = names.get(0);
        if (i == names.size()) {
            String addr = address.getHostAddress();
            if (temporary != null) {
                return done(new ClientName(address, ClientName.UNKNOWN, Outcome.TEMPORARY_FAILURE, reverseName,
                        Outcome.FOUND, temporary));
            }
            return done(new ClientName(address, ClientName.UNKNOWN, Outcome.NOT_FOUND, reverseName, Outcome.FOUND,
                    "hostname " + reverseName + " does not resolve to address " + addr));
        }
        String name = names.get(i);
        int type = address instanceof Inet4Address ? Type.A : Type.AAAA;
        return lookup(e, name, type, DnsjavaResolver::address).thenCompose(forward -> {
            if (forward.values().contains(address)) {
                return done(new ClientName(address, name, Outcome.FOUND, reverseName, Outcome.FOUND, ""));
            }
            String addr = address.getHostAddress();
            String next = temporary;
            if (forward instanceof DnsResult.TemporaryFailure<InetAddress> t) {
                log.warn("hostname {} does not resolve to address {}: temporary failure: {}", name, addr,
                        t.reason());
                if (next == null) {
                    next = "hostname " + name + " does not resolve to address " + addr + ": temporary failure: "
                            + t.reason();
                }
            } else if (forward instanceof DnsResult.NotFound<InetAddress> nf) {
                log.warn("hostname {} does not resolve to address {}: {}", name, addr,
                        nf.reason() == DnsResult.NotFoundReason.NXDOMAIN ? "Name or service not known"
                                : "No address associated with hostname");
            } else {
                log.warn("hostname {} does not resolve to address {}", name, addr);
            }
            return confirm(e, address, names, i + 1, next);
        });
    }

    @Override
    public CompletionStage<DnsblResult> rbl(InetAddress client, String zone) {
        Objects.requireNonNull(client, "client");
        return dnsbl(engine.get(), ReverseNames.dnsblName(client, zone)).minimalCompletionStage();
    }

    @Override
    public CompletionStage<DnsblResult> rhsbl(String domain, String zone) {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(zone, "zone");
        return dnsbl(engine.get(), stripDot(domain) + "." + stripDot(zone))
                .minimalCompletionStage();
    }

    private CompletableFuture<DnsblResult> dnsbl(DnsEngine e, String query) {
        String shown = displayName(query);
        return lookup(e, query, Type.A, DnsjavaResolver::address).thenCompose(listed -> {
            if (!listed.isFound()) {
                return done(new DnsblResult(shown, listed, ""));
            }
            return txt(e, query).thenApply(t -> new DnsblResult(shown, listed, String.join(" ", t.values())));
        });
    }

    // ---- helpers ----

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    private static <T> CompletableFuture<DnsResult<T>> lookup(DnsEngine e, String name, int type,
            Function<Record, T> value) {
        Objects.requireNonNull(name, "name");
        Name n = toName(name);
        if (n == null) {
            log.warn("malformed domain name: {}", printable(name));
            return done(new DnsResult.NotFound<>(displayName(name) + "/" + Type.string(type),
                    DnsResult.NotFoundReason.MALFORMED_NAME));
        }
        if (type == Type.A || type == Type.AAAA) {
            List<InetAddress> local = HostsFile.SYSTEM.addresses(name, type == Type.AAAA);
            if (!local.isEmpty()) {
                // /etc/hosts first, as the C library's "files dns" order gives Postfix
                List<Record> records = new ArrayList<>();
                for (InetAddress a : local) {
                    records.add(type == Type.A ? new ARecord(n, org.xbill.DNS.DClass.IN, 0, a)
                            : new AAAARecord(n, org.xbill.DNS.DClass.IN, 0, a));
                }
                return done(map(new DnsResult.Found<>(displayName(name) + "/" + Type.string(type), records,
                        java.time.Duration.ZERO), value));
            }
        }
        return e.lookup(n, type).thenApply(r -> map(r, value));
    }

    static <T> DnsResult<T> map(DnsResult<Record> r, Function<Record, T> value) {
        if (r instanceof DnsResult.Found<Record> f) {
            return new DnsResult.Found<>(f.query(), f.values().stream().map(value).toList(), f.ttl());
        }
        if (r instanceof DnsResult.NotFound<Record> nf) {
            return new DnsResult.NotFound<>(nf.query(), nf.reason());
        }
        DnsResult.TemporaryFailure<Record> t = (DnsResult.TemporaryFailure<Record>) r;
        return new DnsResult.TemporaryFailure<>(t.query(), t.reason());
    }

    private static InetAddress address(Record r) {
        return r instanceof ARecord a ? a.getAddress() : ((AAAARecord) r).getAddress();
    }

    /** A name as text without the trailing dot; the root is {@code "."}. */
    static String text(Name n) {
        return n.equals(Name.root) ? "." : n.toString(true);
    }

    /**
     * The absolute name for {@code s}, or null when it is not a valid domain name. Non-ASCII names become A-labels.
     */
    static Name toName(String s) {
        String t = s.strip();
        if (t.isEmpty() || t.equals(".") || t.startsWith(".") || t.contains("..") || !t.equals(s)) {
            return null;
        }
        try {
            String ascii = IDN.toASCII(t.endsWith(".") ? t.substring(0, t.length() - 1) : t, IDN.ALLOW_UNASSIGNED);
            for (int i = 0; i < ascii.length(); i++) {
                char c = ascii.charAt(i);
                if (c <= ' ' || c >= 0x7f || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@'
                        || c == '$') {
                    return null;
                }
            }
            return Name.fromString(ascii, Name.root);
        } catch (TextParseException | IllegalArgumentException e) {
            return null;
        }
    }

    private static String stripDot(String name) {
        return name.endsWith(".") && name.length() > 1 ? name.substring(0, name.length() - 1) : name;
    }

    private static String displayName(String s) {
        String p = printable(s);
        return p.endsWith(".") && p.length() > 1 ? p.substring(0, p.length() - 1) : p;
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && i < 300; i++) {
            char c = s.charAt(i);
            sb.append(c < ' ' || c == 0x7f ? '?' : c);
        }
        return sb.toString();
    }

    /**
     * Postfix's valid_hostname(): labels of letters, digits, '-' and '_' not starting or ending with '-', at most 63
     * characters each and 255 in all, and not all-numeric (a dotted quad is no host name).
     */
    static boolean validHostname(String name) {
        if (name.isEmpty() || name.length() > 255) {
            return false;
        }
        boolean nonNumeric = false;
        for (String label : name.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_') {
                    nonNumeric = true;
                } else if (c < '0' || c > '9') {
                    return false;
                }
            }
        }
        return nonNumeric;
    }
}
