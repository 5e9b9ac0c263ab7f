package org.estafeta.transport.smtp.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.config.ConfigValues;
import org.estafeta.tables.TableService;
import org.estafeta.tls.TlsException;
import org.estafeta.transport.smtp.internal.Connection.ConnectFailure;
import org.estafeta.transport.smtp.internal.Connection.SessionException;
import org.estafeta.transport.smtp.internal.HostFinder.Target;
import org.slf4j.Logger;

import java.security.cert.X509Certificate;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;

/**
 * One delivery request, run on the caller's thread as Postfix's smtp_connect() and smtp_proto.c run it: the
 * next hop and the fallback relays in turn, their addresses up to the address and session limits, and on each
 * session the greeting, EHLO/HELO/LHLO, MAIL, RCPT, DATA and the content. A soft error on a server that is not
 * the last one to try keeps the recipients for the next server; anything else is the recipient's result. lmtp's
 * {@code unix:path} next hop is one UNIX-domain socket, as smtp_connect_local() has it ({@link #unixSite}).
 */
final class Delivery {
    /** Postfix's smtp_rset_timeout, for the probe of a cached connection. */
    private static final Duration RSET_TIMEOUT = Duration.ofSeconds(20);

    private enum Mark { NONE, KEEP, DROP }

    private final DeliveryRequest request;
    private final ClientSettings settings;
    private final EventLoopGroup group;
    private final ConnectionCache cache;
    private final HostFinder finder;
    private final Logger log;
    private final List<String> recipients;
    private final RecipientResult[] results;
    private final Mark[] marks;
    private final List<Integer> pending = new ArrayList<>();
    private final String cacheKey;

    /** The last reason recipients were not delivered; what is left at the end gets it. */
    private Why why;
    /** Whether the current server is the last one that will be tried (soft errors are then final). */
    private boolean finalServer;
    private String nexthopText;
    private int bestPreference;
    private final TableService tables;
    private final TlsContexts contexts;
    /** The next hop being tried and its TLS policy. */
    private NextHop hop;
    private TlsSettings.Policy policy;
    /** Set when a handshake failed at level may: the same address is tried again without TLS. */
    private boolean retryPlain;
    /** The session is that retry. */
    private boolean plainOnly;
    /** {@code *_sasl_password_maps} when SASL is enabled, else null. */
    private final SaslPasswords passwords;

    Delivery(DeliveryRequest request, ClientSettings settings, EventLoopGroup group, ConnectionCache cache,
            HostFinder finder, Logger log, TableService tables, TlsContexts contexts) {
        this.tables = tables;
        this.contexts = contexts;
        this.request = request;
        this.settings = settings;
        this.group = group;
        this.cache = cache;
        this.finder = finder;
        this.log = log;
        this.recipients = request.recipients();
        this.results = new RecipientResult[recipients.size()];
        this.marks = new Mark[recipients.size()];
        Arrays.fill(marks, Mark.NONE);
        for (int i = 0; i < recipients.size(); i++) {
            pending.add(i);
        }
        SaslSettings sasl = settings.sasl();
        this.passwords = sasl.enabled() ? new SaslPasswords(sasl, tables, settings.localDomains()) : null;
        // as Postfix's connection cache labels: with sender-dependent credentials the sender is part of the key
        this.cacheKey = settings.program() + "/" + request.service() + "/" + request.nexthop()
                + (passwords != null && sasl.senderDependent() ? "/" + request.envelope().sender() : "");
    }

    /**
     * Delivers; every recipient gets a result. An interruption or a bug defers what is left, so that nothing
     * already delivered is sent again because of it.
     */
    List<RecipientResult> run() {
        try {
            runSites();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = Why.local("4.3.0", "delivery interrupted");
        } catch (IllegalArgumentException e) {
            log.warn("{}", e.getMessage());
            why = Why.local("4.3.5", "Server configuration error");
        } catch (RuntimeException e) {
            log.warn("{}: unexpected error: {}", request.envelope().queueId(), e.toString(), e);
            why = Why.local("4.3.0", "mail transport unavailable");
        }
        for (int i = 0; i < results.length; i++) {
            if (results[i] == null) {
                Why w = why == null || !why.isSoft() ? Why.local("4.3.0", "mail transport unavailable") : why;
                results[i] = result(i, w, "none");
            }
        }
        return List.of(results);
    }

    private void runSites() throws InterruptedException {
        String nexthop = request.nexthop().strip();
        if (settings.lmtp() && nexthop.startsWith("unix:")) {
            unixSite(nexthop.substring(5));
            failLeft(false, false);
            return;
        }
        List<String> sites = new ArrayList<>(ConfigValues.list(request.nexthop()));
        int nonFallback = sites.size();
        if (!settings.lmtp()) {
            sites.addAll(settings.fallbackRelays());
        }
        if (sites.isEmpty()) {
            log.warn("null destination: \"{}\"", request.nexthop());
            why = Why.local("4.3.5", "Server configuration error");
        }
        int site = 0;
        for (; site < sites.size() && !pending.isEmpty(); site++) {
            boolean finalNexthop = site == sites.size() - 1;
            if (trySite(sites.get(site), site == 0, finalNexthop) || finalNexthop) {
                break;
            }
        }
        failLeft(site >= nonFallback && site < sites.size(),
                !settings.lmtp() && !sites.isEmpty() && sites.get(0).equals(settings.relayhost()));
    }

    /**
     * The recipients no server took get the last reason; a hard one from a fallback relay or the relayhost is a
     * configuration problem (4.3.5), as Postfix's smtp_connect() says.
     */
    private void failLeft(boolean fallbackSite, boolean relayhostSite) {
        if (pending.isEmpty()) {
            return;
        }
        Why w = why != null ? why : Why.local("4.3.0", "server unavailable or unable to receive mail");
        if (!w.isSoft()) {
            if (fallbackSite) {
                log.warn("{} configuration problem", settings.program() + "_fallback_relay");
                w = w.withStatus("4.3.5");
            } else if (relayhostSite) {
                log.warn("relayhost configuration problem");
                w = w.withStatus("4.3.5");
            }
        }
        for (int i : pending) {
            results[i] = result(i, w, "none");
        }
        pending.clear();
    }

    /**
     * lmtp's {@code unix:path} next hop, as Postfix's smtp_connect_local(): one server (every error is final), a
     * relative path under {@code queue_directory}, the cached connection for this next hop when there is one, no
     * fallback relays, and opportunistic TLS turned off. The server is named {@code $myhostname[path]}.
     */
    private void unixSite(String path) throws InterruptedException {
        finalServer = true;
        if (!settings.fallbackRelays().isEmpty()) {
            log.warn("ignoring \"{}_fallback_relay = {}\" setting for non-TCP connections", settings.program(),
                    String.join(" ", settings.fallbackRelays()));
        }
        Path socket = unixSocket(path);
        if (socket == null) {
            why = Why.local("4.3.5", "Server configuration error");
            return;
        }
        Target t = Target.unix(settings.myhostname(), path, socket);
        hop = NextHop.unix(path, settings.myhostname());
        nexthopText = path;
        bestPreference = 0;
        policy = settings.tls().policy(hop, tables, log);
        if (policy.invalid() != null) {
            why = policy.invalid();
            log.warn("TLS policy lookup error for {}/{}: {}", t.host(), path, why.text());
            return;
        }
        boolean opportunistic = policy.level() == TlsLevel.MAY;
        if (opportunistic) {
            policy = new TlsSettings.Policy(TlsLevel.NONE, policy.match(), policy.protocolsParameter(),
                    policy.protocols(), null);
        }
        Connection c = settings.cacheOnDemand() ? fromCache() : null;
        boolean fresh = c == null;
        if (fresh) {
            c = connect(t);
            if (c == null) {
                return;
            }
        }
        if (opportunistic) {
            log.warn("smtp_connect_local: opportunistic TLS encryption is not appropriate for unix-domain destinations.");
        }
        session(c, fresh);
    }

    /**
     * Where the socket of {@code unix:path} is: an absolute path as it is, a relative one under
     * {@code queue_directory} (where Postfix's lmtp runs). Null, after a warning, when it cannot be used.
     */
    private Path unixSocket(String path) {
        Path p;
        try {
            if (path.isBlank()) {
                throw new InvalidPathException(path, "empty path");
            }
            p = Path.of(path);
            if (!p.isAbsolute()) {
                if (settings.queueDirectory().isEmpty()) {
                    log.warn("unix-domain destination {} is relative and queue_directory is not set", path);
                    return null;
                }
                p = Path.of(settings.queueDirectory()).resolve(p);
            }
        } catch (InvalidPathException e) {
            log.warn("bad unix-domain destination: \"{}\"", path);
            return null;
        }
        // sizeof(sun_path) on Linux, terminating NUL included; the path handed to connect() is the absolute one
        if (p.toString().getBytes(StandardCharsets.UTF_8).length >= 108) {
            log.warn("unix-domain name too long: {}", p);
            return null;
        }
        return p;
    }

    /** Tries one destination of the list; true when it ends the list (mail loops back to myself). */
    private boolean trySite(String site, boolean firstNexthop, boolean finalNexthop) throws InterruptedException {
        NextHop hop;
        try {
            hop = NextHop.parse(site, settings.lmtp());
        } catch (IllegalArgumentException e) {
            log.warn("{}", e.getMessage());
            why = Why.local("4.3.5", "Server configuration error");
            return false;
        }
        nexthopText = hop.text();
        this.hop = hop;
        policy = settings.tls().policy(hop, tables, log);
        if (policy.invalid() != null) {
            why = policy.invalid();
            log.warn("TLS policy lookup error for {}: {}", hop.text(), why.text());
            return false;
        }
        HostFinder.Found found = finder.find(hop);
        List<Target> targets = found.targets();
        if (found.why() != null && targets.isEmpty()) {
            why = found.why();
        }
        if (targets.isEmpty()) {
            return false;
        }
        bestPreference = targets.get(0).preference();
        int addrCount = 0;
        int sessCount = 0;
        if (firstNexthop && settings.cacheOnDemand()) {
            Connection cached = fromCache();
            if (cached != null) {
                addrCount = 1;
                sessCount = 1;
                boolean last = limitReached(1, settings.mxAddressLimit()) || limitReached(1, settings.mxSessionLimit());
                finalServer = finalNexthop && last;
                session(cached, false);
                if (last) {
                    return false;
                }
            }
        }
        for (int i = 0; i < targets.size() && !pending.isEmpty(); i++) {
            Target t = targets.get(i);
            boolean last = i == targets.size() - 1 || limitReached(++addrCount, settings.mxAddressLimit());
            Connection c = connect(t);
            if (c == null) {
                if (last) {
                    break;
                }
                continue;
            }
            finalServer = finalNexthop && last;
            boolean done = session(c, true);
            if (retryPlain) {
                // smtp_connect.c's RETRY_AS_PLAINTEXT: the same address again, without TLS, not counted
                retryPlain = false;
                c = connect(t);
                if (c != null) {
                    plainOnly = true;
                    try {
                        done = session(c, true);
                    } finally {
                        plainOnly = false;
                    }
                }
            }
            if (done && limitReached(++sessCount, settings.mxSessionLimit())) {
                last = true;
            }
            if (last) {
                break;
            }
        }
        return false;
    }

    private static boolean limitReached(int count, int limit) {
        return limit > 0 && count >= limit;
    }

    /** A cached connection for this next hop that answers RSET, or null. */
    private Connection fromCache() throws InterruptedException {
        Connection c = cache.take(cacheKey, settings.reuseTimeLimit(), settings.quitTimeout());
        if (c == null) {
            return null;
        }
        if (policy.level().required() && c.tls == null || policy.level().mustMatch() && !c.verified) {
            c.quit(settings.quitTimeout()); // a plain or unverified connection: not for this policy
            return null;
        }
        if (!sameCredentials(c)) {
            c.quit(settings.quitTimeout()); // authenticated as someone else (or not at all): never shared
            return null;
        }
        try {
            c.send("RSET");
            if (c.read(RSET_TIMEOUT, "sending RSET probe").isPositive()) {
                c.reuseCount++;
                return c;
            }
        } catch (SessionException e) {
            // gone while idle: make a new connection
        }
        c.close();
        return null;
    }

    /**
     * Whether a cached connection authenticated (or not) as this delivery would: an AUTH session is never shared
     * with a delivery whose credentials differ, nor an unauthenticated one with a delivery that has credentials.
     */
    private boolean sameCredentials(Connection c) {
        if (!c.auth && c.authIdentity == null) {
            return true; // the server offered no AUTH (or SASL was off): a new session would not authenticate either
        }
        try {
            SaslPasswords.Credentials cred = credentials(c.target);
            return Objects.equals(cred == null ? null : cred.identity(), c.authIdentity);
        } catch (SaslPasswords.LookupError e) {
            return false;
        }
    }

    /** smtp_sasl_passwd_lookup() for this delivery and server; null when SASL is off or nothing is found. */
    private SaslPasswords.Credentials credentials(Target t) throws SaslPasswords.LookupError {
        if (passwords == null) {
            return null;
        }
        String sender = settings.sasl().senderDependent() ? request.envelope().sender() : null;
        return passwords.find(sender, t.host(), hop.text());
    }

    private Connection connect(Target t) throws InterruptedException {
        if (t.isUnix()) {
            try {
                return Connection.open(group, t, settings.connectTimeout(), null);
            } catch (ConnectFailure e) {
                // smtp_connect_sock() without a port; smtp_connect_local() logs no line of its own
                why = Why.local("4.4.1", "connect to " + t.namaddr() + ": " + e.getMessage());
                return null;
            }
        }
        String bindText = t.address() instanceof Inet4Address ? settings.bindAddress() : settings.bindAddress6();
        InetSocketAddress bind = null;
        if (!bindText.isEmpty()) {
            InetAddress b = HostFinder.literal(bindText);
            if (b == null) {
                throw new IllegalArgumentException("bad " + settings.program()
                        + (t.address() instanceof Inet4Address ? "_bind_address" : "_bind_address6")
                        + " parameter: " + bindText);
            }
            bind = new InetSocketAddress(b, 0);
        }
        try {
            try {
                return Connection.open(group, t, settings.connectTimeout(), bind);
            } catch (ConnectFailure e) {
                if (bind == null || !e.getMessage().equals("Cannot assign requested address")) {
                    throw e;
                }
                log.warn("{}_connect_addr: bind {}: {}", settings.program(), bindText, e.getMessage());
                return Connection.open(group, t, settings.connectTimeout(), null);
            }
        } catch (ConnectFailure e) {
            why = Why.local("4.4.1", "connect to " + t.namaddrport() + ": " + e.getMessage());
            log.info("{}", why.text());
            return null;
        }
    }

    /**
     * One session on {@code c}: the handshake when {@code fresh}, then the transfer. Returns whether the
     * handshake succeeded (only those sessions count against smtp_mx_session_limit).
     */
    private boolean session(Connection c, boolean fresh) throws InterruptedException {
        for (int i : pending) {
            marks[i] = Mark.NONE;
        }
        boolean handshakeDone = !fresh;
        boolean reusable = false;
        try {
            if (fresh && !handshake(c)) {
                c.quit(settings.quitTimeout());
                return false;
            }
            handshakeDone = true;
            reusable = transfer(c);
        } catch (SessionException e) {
            String namaddr = c.target.namaddr();
            bulkFail(Why.local("4.4.2", (e.timeout ? "conversation with " + namaddr + " timed out while "
                    : "lost connection with " + namaddr + " while ") + e.where), c.target);
            c.close();
            reusable = false;
            c = null;
        } catch (IOException e) {
            log.warn("{}: cannot read the message content: {}", request.envelope().queueId(), e.toString());
            bulkFail(Why.local("4.3.0", "local data error while talking to " + c.target.namaddr()), c.target);
            c.close();
            c = null;
        } finally {
            pending.removeIf(i -> marks[i] == Mark.DROP);
        }
        if (c != null) {
            Duration age = Duration.ofNanos(System.nanoTime() - c.createdNanos);
            if (reusable && settings.cacheOnDemand() && c.isOpen() && age.compareTo(settings.reuseTimeLimit()) < 0) {
                cache.put(cacheKey, c, settings.cacheTimeLimit(), settings.quitTimeout());
            } else {
                c.quit(settings.quitTimeout());
            }
        }
        return handshakeDone;
    }

    /** Greeting and EHLO/HELO/LHLO; false after a failure that was reported (bulkFail). */
    private boolean handshake(Connection c) throws SessionException, InterruptedException {
        Target t = c.target;
        boolean loopDetect = !settings.lmtp() && t.port() == 25;
        Response r = c.read(settings.heloTimeout(), "receiving the initial server greeting");
        if (!r.isPositive()) {
            if (r.code() / 100 == 5 && settings.skip5xxGreeting()) {
                r = r.withDsn("4" + r.dsn().substring(1));
            }
            bulkFail(Why.remote(r, refused(t, r)), t);
            return false;
        }
        String[] words = r.lines().get(0).split("[- \t]+");
        if (loopDetect && words.length > 1 && words[1].equalsIgnoreCase(settings.myhostname())) {
            log.warn("host {} greeted me with my own hostname {}", t.namaddrport(), settings.myhostname());
        }
        c.esmtp = settings.lmtp() || !settings.neverEhlo();
        if (settings.lmtp()) {
            c.send("LHLO " + settings.heloName());
            r = c.read(settings.heloTimeout(), "performing the LHLO handshake");
            if (!r.isPositive()) {
                bulkFail(Why.remote(r, refused(t, r)), t);
                return false;
            }
        } else {
            if (c.esmtp) {
                c.send("EHLO " + settings.heloName());
                r = c.read(settings.heloTimeout(), "performing the EHLO handshake");
                if (!r.isPositive()) {
                    if (r.code() == 421) {
                        bulkFail(Why.remote(r, refused(t, r)), t);
                        return false;
                    }
                    c.esmtp = false;
                }
            }
            if (!c.esmtp) {
                c.send("HELO " + settings.heloName());
                r = c.read(settings.heloTimeout(), "performing the HELO handshake");
                if (!r.isPositive()) {
                    bulkFail(Why.remote(r, refused(t, r)), t);
                    return false;
                }
            }
        }
        if (c.esmtp && !features(c, r, loopDetect)) {
            return false;
        }
        return startTls(c, loopDetect) && saslLogin(c);
    }

    /**
     * Postfix's smtp_sasl_helo_login(), after EHLO (and STARTTLS): when the server offered AUTH and
     * {@code *_sasl_password_maps} has credentials for it, authenticate; without credentials talk as strangers.
     * False after a failure that was reported (the session is then not reused).
     */
    private boolean saslLogin(Connection c) throws SessionException, InterruptedException {
        c.authIdentity = null;
        if (passwords == null || !c.auth) {
            return true;
        }
        Target t = c.target;
        SaslPasswords.Credentials cred;
        try {
            cred = credentials(t);
        } catch (SaslPasswords.LookupError e) {
            log.warn("{}", e.getMessage());
            log.warn("{}: {} lookup error", request.envelope().queueId(), passwords.title());
            bulkFail(Why.local("4.3.0", "local data error while talking to " + t.namaddr()), t);
            return false;
        }
        if (cred == null) {
            return true; // c.auth stays set: this session is not for a delivery that has credentials
        }
        if (c.authMechanisms == null) {
            bulkFail(Why.local("4.7.0", "SASL authentication failed: server " + t.namaddr()
                    + " offered no compatible authentication mechanisms for this type of connection security"), t);
            return false;
        }
        SaslSettings sasl = settings.sasl();
        Set<String> options = c.tls == null ? sasl.securityOptions()
                : c.verified ? sasl.tlsVerifiedSecurityOptions() : sasl.tlsSecurityOptions();
        String hello = settings.lmtp() ? "LHLO" : c.esmtp ? "EHLO" : "HELO";
        Why failed = new SaslLogin(c, settings.heloTimeout(), "performing the " + hello + " handshake",
                sasl.softBounce()).run(c.authMechanisms, options, cred);
        if (failed != null) {
            bulkFail(failed, t);
            return false;
        }
        c.authIdentity = cred.identity();
        return true;
    }

    /** smtp_sasl_helo_auth(): an AUTH keyword of the EHLO/LHLO reply, {@code words} the mechanisms after it. */
    private void authOffered(Connection c, List<String> words) {
        List<String> mechs = settings.sasl().filter(words);
        if (c.authMechanisms != null) {
            // several AUTH lines: their lists are joined (duplicates do no harm)
            if (!mechs.isEmpty() && !String.join(" ", mechs).equalsIgnoreCase(String.join(" ", c.authMechanisms))) {
                List<String> joined = new ArrayList<>(c.authMechanisms);
                joined.addAll(mechs);
                c.authMechanisms = List.copyOf(joined);
            }
            return;
        }
        if (!mechs.isEmpty()) {
            c.authMechanisms = List.copyOf(mechs);
        } else if (words.isEmpty()) {
            log.warn("{} offered null AUTH mechanism list", c.target.namaddrport());
        } else {
            log.warn("{} offered no supported AUTH mechanisms: '{}'", c.target.namaddrport(), String.join(" ", words));
        }
        c.auth = true;
    }

    /**
     * STARTTLS as smtp_proto.c decides it, then EHLO/LHLO again over TLS. False after a failure that was
     * reported, or when {@link #retryPlain} was set.
     */
    private boolean startTls(Connection c, boolean loopDetect) throws SessionException, InterruptedException {
        TlsLevel level = plainOnly ? TlsLevel.NONE : policy.level();
        Target t = c.target;
        if (level == TlsLevel.NONE) {
            return true;
        }
        if (!c.startTls) {
            if (level.required()) {
                bulkFail(Why.local("4.7.4", "TLS is required, but was not offered by host " + t.namaddr()), t);
                return false;
            }
            return true;
        }
        SSLEngine engine;
        try {
            engine = TlsContexts.engine(contexts.context(settings.tls()), t, policy);
        } catch (TlsException | IllegalArgumentException e) {
            log.warn("{}", e.getMessage());
            if (level.required()) {
                bulkFail(Why.local("4.7.5", "TLS is required, but our TLS engine is unavailable"), t);
                return false;
            }
            return true;
        }
        c.sendStartTls();
        Response r = c.read(settings.tls().starttlsTimeout(), "receiving the STARTTLS response");
        if (!r.isPositive()) {
            c.resumePlain();
            if (level.required()) {
                bulkFail(Why.remote(r, "TLS is required, but host " + t.namaddr() + " refused to start TLS: "
                        + r.text()), t);
                return false;
            }
            return true;
        }
        SSLSession s;
        try {
            s = c.handshake(engine, settings.tls().starttlsTimeout());
        } catch (SSLException e) {
            log.info("SSL_connect error to {}: {}", t.namaddrport(), e.getMessage());
            if (level == TlsLevel.MAY && !haveCredentials(t)) {
                log.info("{}: Cannot start TLS: handshake failure; trying {} again without TLS",
                        request.envelope().queueId(), t.namaddrport());
                retryPlain = true;
                return false;
            }
            bulkFail(Why.local("4.7.5", "Cannot start TLS: handshake failure"), t);
            return false;
        }
        X509Certificate peer = TlsContexts.peer(s);
        boolean trusted = peer != null && TlsContexts.trusted(s);
        c.verified = trusted && level.mustMatch() && TlsContexts.matches(peer, matchNames(t));
        if (settings.tls().loglevel() >= 1) {
            int bits = s.getCipherSuite().contains("_128_") ? 128 : 256;
            log.info("{} TLS connection established to {}: {} with cipher {} ({}/{} bits)",
                    peer == null ? "Anonymous" : c.verified ? "Verified" : trusted ? "Trusted" : "Untrusted",
                    t.namaddrport(), s.getProtocol(), s.getCipherSuite(), bits, bits);
        }
        if (level.mustMatch() && !c.verified) {
            bulkFail(Why.local("4.7.5", "Server certificate not verified"), t);
            return false;
        }
        // the features of the plain-text EHLO are forgotten; only the reply over TLS counts
        c.pipelining = c.dsn = c.eightBitMime = c.smtputf8 = c.startTls = c.auth = false;
        c.authMechanisms = null;
        c.sizeLimit = 0;
        String hello = settings.lmtp() ? "LHLO" : "EHLO";
        c.send(hello + " " + settings.heloName());
        r = c.read(settings.heloTimeout(), "performing the " + hello + " handshake");
        if (!r.isPositive()) {
            bulkFail(Why.remote(r, refused(t, r)), t);
            return false;
        }
        return features(c, r, loopDetect);
    }

    /** HAVE_SASL_CREDENTIALS: then no plain-text retry after a failed TLS handshake (a lookup error counts). */
    private boolean haveCredentials(Target t) {
        try {
            return credentials(t) != null;
        } catch (SaslPasswords.LookupError e) {
            return true;
        }
    }

    /** The names of the policy's match list: {@code hostname}, {@code nexthop}, {@code dot-nexthop}, or literal. */
    private List<String> matchNames(Target t) {
        List<String> names = new ArrayList<>();
        for (String m : policy.match()) {
            switch (m.toLowerCase(Locale.ROOT)) {
                case "hostname" -> names.add(t.host());
                case "nexthop" -> names.add(hop.host());
                case "dot-nexthop" -> names.add("." + hop.host());
                default -> names.add(m);
            }
        }
        return names;
    }

    private static String refused(Target t, Response r) {
        return "host " + t.namaddr() + " refused to talk to me: " + r.text();
    }

    /** The EHLO/LHLO keywords; false when the server is myself (mail loops). */
    private boolean features(Connection c, Response r, boolean loopDetect) {
        List<String> lines = r.lines();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            String rest = line.length() > 4 ? line.substring(4).strip() : "";
            String[] w = rest.split("[ \t=]+");
            String word = w[0];
            if (n == 0) {
                if (loopDetect && word.equalsIgnoreCase(settings.myhostname())) {
                    log.warn("host {} replied to HELO/EHLO with my own hostname {}", c.target.namaddrport(),
                            settings.myhostname());
                    String status = c.target.preference() == bestPreference ? "5.4.6" : "4.4.6";
                    bulkFail(Why.local(status, "mail for " + nexthopText + " loops back to myself"), c.target);
                    return false;
                }
                continue;
            }
            switch (word.toUpperCase(Locale.ROOT)) {
                case "PIPELINING" -> c.pipelining = true;
                case "8BITMIME" -> c.eightBitMime = true;
                case "DSN" -> c.dsn = true;
                case "SMTPUTF8" -> c.smtputf8 = true;
                case "STARTTLS" -> c.startTls = c.tls == null;
                case "AUTH" -> {
                    if (passwords != null) {
                        authOffered(c, Arrays.asList(w).subList(1, w.length));
                    }
                }
                case "SIZE" -> {
                    c.sizeLimit = -1;
                    if (w.length > 1) {
                        if (w[1].chars().allMatch(Character::isDigit) && w[1].length() < 19) {
                            long limit = Long.parseLong(w[1]);
                            c.sizeLimit = limit == 0 ? -1 : limit; // 0: announced, no limit
                        } else {
                            log.warn("bad EHLO SIZE limit \"{}\" from {}", w[1], c.target.namaddrport());
                        }
                    }
                }
                default -> {
                }
            }
        }
        if (c.smtputf8 && !c.eightBitMime) {
            log.info("host {} offers SMTPUTF8 support, but not 8BITMIME", c.target.namaddr());
            c.eightBitMime = true;
        }
        return true;
    }

    /** MAIL, RCPT, DATA and the content; true when the connection may be reused. */
    private boolean transfer(Connection c) throws SessionException, InterruptedException, IOException {
        Target t = c.target;
        String namaddr = t.namaddr();
        long size = request.content().size();
        if (c.sizeLimit > 0 && c.sizeLimit < size) {
            bulkFail(Why.local("5.3.4", "message size " + size + " exceeds size limit " + c.sizeLimit
                    + " of server " + namaddr), t);
            return true;
        }
        Map<String, String> mp = request.mailParameters();
        if (mp.containsKey("SMTPUTF8") && !c.smtputf8 && !envelopeIsAscii()) {
            bulkFailSoftNonFinal(Why.local("5.6.7", "message requires SMTPUTF8, but no server was found that "
                    + "supports SMTPUTF8. The last attempted server was " + namaddr), t);
            return true;
        }
        List<Integer> rcpts = new ArrayList<>(pending);
        List<String> commands = new ArrayList<>();
        commands.add(mailCommand(c, size));
        for (int i : rcpts) {
            commands.add(rcptCommand(c, i));
        }
        boolean pipelining = c.pipelining;
        if (pipelining) {
            commands.add("DATA");
            c.send(commands.toArray(String[]::new));
        } else {
            c.send(commands.get(0));
        }
        Response r = c.read(settings.mailTimeout(), "sending MAIL FROM");
        boolean mailRejected = !r.isPositive();
        if (mailRejected) {
            bulkFail(Why.remote(r, said(namaddr, r, "MAIL FROM command")), t);
        }
        List<Integer> accepted = new ArrayList<>();
        for (int k = 0; k < rcpts.size(); k++) {
            if (!pipelining) {
                if (mailRejected) {
                    break;
                }
                c.send(commands.get(k + 1));
            }
            r = c.read(settings.rcptTimeout(), "sending RCPT TO");
            if (mailRejected) {
                continue;
            }
            int i = rcpts.get(k);
            if (r.isPositive()) {
                accepted.add(i);
            } else {
                rcptFail(i, Why.remote(r, said(namaddr, r, "RCPT TO command")), t);
            }
        }
        boolean nothingToSend = mailRejected || accepted.isEmpty();
        if (!pipelining) {
            if (nothingToSend) {
                return true;
            }
            c.send("DATA");
        }
        r = c.read(settings.dataInitTimeout(), "sending DATA command");
        if (r.code() / 100 != 3) {
            if (!nothingToSend) {
                bulkFail(Why.remote(r, said(namaddr, r, "DATA command")), t);
            }
            return r.code() != 0;
        }
        if (nothingToSend) {
            c.send(".");
            c.read(settings.dataDoneTimeout(), "sending end of data -- message may be sent more than once");
            return false;
        }
        sendContent(c);
        String where = "sending end of data -- message may be sent more than once";
        r = c.read(settings.dataDoneTimeout(), where);
        if (!settings.lmtp()) {
            if (r.isPositive()) {
                for (int i : accepted) {
                    if (marks[i] == Mark.NONE) {
                        delivered(i, r, t);
                    }
                }
            } else {
                bulkFail(Why.remote(r, said(namaddr, r, "end of DATA command")), t);
            }
            return true;
        }
        for (int k = 0; k < accepted.size(); k++) {
            if (k > 0) {
                r = c.read(settings.dataDoneTimeout(), where);
            }
            int i = accepted.get(k);
            if (r.isPositive()) {
                delivered(i, r, t);
            } else {
                rcptFail(i, Why.remote(r, said(namaddr, r, "end of DATA command")), t);
            }
        }
        return true;
    }

    private void sendContent(Connection c) throws IOException, SessionException, InterruptedException {
        try (InputStream in = request.content().openMessage()) {
            DataEncoder enc = new DataEncoder(in, settings.lineLengthLimit());
            for (byte[] piece = enc.next(); piece != null; piece = enc.next()) {
                c.write(Unpooled.wrappedBuffer(piece), settings.dataXferTimeout(), "sending message body");
                if (enc.brokeLongLine) {
                    log.info("{}: breaking line > {} bytes with <CR><LF>SPACE", request.envelope().queueId(),
                            settings.lineLengthLimit());
                    enc.brokeLongLine = false;
                }
            }
        }
    }

    private static String said(String namaddr, Response r, String command) {
        return "host " + namaddr + " said: " + r.text() + " (in reply to " + command + ")";
    }

    private String mailCommand(Connection c, long size) {
        StringBuilder sb = new StringBuilder("MAIL FROM:<").append(request.envelope().sender()).append('>');
        Map<String, String> mp = request.mailParameters();
        if (c.sizeLimit != 0) {
            sb.append(" SIZE=").append(size);
        }
        String body = mp.get("BODY");
        if (c.eightBitMime && body != null && !body.isEmpty()) {
            sb.append(" BODY=").append(body.toUpperCase(Locale.ROOT));
        }
        if (c.dsn) {
            String envid = mp.get("ENVID");
            if (envid != null && !envid.isEmpty()) {
                sb.append(" ENVID=").append(xtext(envid));
            }
            String ret = mp.get("RET");
            if (ret != null && !ret.isEmpty()) {
                sb.append(" RET=").append(ret.toUpperCase(Locale.ROOT));
            }
        }
        if (c.smtputf8 && mp.containsKey("SMTPUTF8")) {
            sb.append(" SMTPUTF8");
        }
        return sb.toString();
    }

    private String rcptCommand(Connection c, int i) {
        String rcpt = recipients.get(i);
        StringBuilder sb = new StringBuilder("RCPT TO:<").append(rcpt).append('>');
        Map<String, String> p = request.recipientParameters().get(rcpt);
        if (c.dsn && p != null) {
            String orcpt = p.get("ORCPT");
            if (orcpt != null && !orcpt.isEmpty()) {
                sb.append(" ORCPT=").append(xtext(orcpt));
            }
            String notify = p.get("NOTIFY");
            if (notify != null && !notify.isEmpty()) {
                sb.append(" NOTIFY=").append(notify.toUpperCase(Locale.ROOT));
            }
        }
        return sb.toString();
    }

    /** RFC 3461 xtext, as Postfix's xtext_quote(value, "+="): {@code +XX} for '+', '=' and non-printables. */
    static String xtext(String value) {
        StringBuilder sb = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int ch = b & 0xff;
            if (ch < 33 || ch > 126 || ch == '+' || ch == '=') {
                sb.append('+').append(String.format("%02X", ch));
            } else {
                sb.append((char) ch);
            }
        }
        return sb.toString();
    }

    private boolean envelopeIsAscii() {
        return isAscii(request.envelope().sender()) && recipients.stream().allMatch(Delivery::isAscii);
    }

    private static boolean isAscii(String s) {
        return s.chars().allMatch(ch -> ch < 128);
    }

    private void delivered(int i, Response r, Target t) {
        results[i] = RecipientResult.delivered(recipients.get(i), new Reply(r.code(), r.dsn(), r.text()),
                t.namaddrport());
        marks[i] = Mark.DROP;
    }

    /** smtp_bulk_fail(): every unmarked recipient of the session is kept for the next server or failed. */
    private void bulkFail(Why w, Target t) {
        why = w;
        if (w.isSoft() && !finalServer) {
            log.info("{}: {}", request.envelope().queueId(), w.text());
            for (int i : pending) {
                if (marks[i] == Mark.NONE) {
                    marks[i] = Mark.KEEP;
                }
            }
            return;
        }
        for (int i : pending) {
            if (marks[i] == Mark.NONE) {
                results[i] = result(i, w, t.namaddrport());
                marks[i] = Mark.DROP;
            }
        }
    }

    /** SMTP_MISC_FAIL_SOFT_NON_FINAL: a hard error that still lets the next server try. */
    private void bulkFailSoftNonFinal(Why w, Target t) {
        bulkFail(finalServer ? w : w.soft(), t);
        why = w;
    }

    /** smtp_rcpt_fail(). */
    private void rcptFail(int i, Why w, Target t) {
        why = w;
        if (w.isSoft() && !finalServer) {
            log.info("{}: {}", request.envelope().queueId(), w.text());
            marks[i] = Mark.KEEP;
            return;
        }
        results[i] = result(i, w, t.namaddrport());
        marks[i] = Mark.DROP;
    }

    private RecipientResult result(int i, Why w, String relay) {
        Reply reply = w.reply();
        return w.isSoft() ? RecipientResult.deferred(recipients.get(i), reply, relay)
                : RecipientResult.bounced(recipients.get(i), reply, relay);
    }
}
