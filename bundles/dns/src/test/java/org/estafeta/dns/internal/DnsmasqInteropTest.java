package org.estafeta.dns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.estafeta.dns.ClientName;
import org.estafeta.dns.DnsResult;
import org.estafeta.dns.DnsblResult;
import org.estafeta.dns.MxRecord;
import org.estafeta.dns.Outcome;
import org.estafeta.testing.Dnsmasq;
import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The resolver service against a real dnsmasq on loopback. */
class DnsmasqInteropTest {
    private static final String RBL_REASON = "Listed by zen.test: see http://zen.test/query?ip=127.0.0.2";

    private static Dnsmasq dns;
    private static DnsResolverComponent resolver;

    static Dnsmasq.Builder records() {
        return Dnsmasq.builder()
                .local("test")
                .local("2.0.192.in-addr.arpa")
                .local("8.b.d.0.1.0.0.2.ip6.arpa")
                .localTtl(300)
                // forward-confirmed: PTR and A agree (host-record makes both)
                .hostRecord("mail.fc.test", "192.0.2.10")
                .hostRecord("v6.fc.test", "2001:db8::25")
                .hostRecord("backup.fc.test", "192.0.2.20")
                // PTR without a matching A
                .ptrRecord("11.2.0.192.in-addr.arpa", "liar.test")
                .address("liar.test", "192.0.2.99")
                // PTR to a name that does not exist
                .ptrRecord("12.2.0.192.in-addr.arpa", "ghost.test")
                .mxHost("mx.test", "backup.fc.test", 20)
                .mxHost("mx.test", "mail.fc.test", 10)
                .cname("www.fc.test", "mail.fc.test")
                .txtRecord("txt.test", "v=spf1 -all")
                // DNSBL and RHSBL listings
                .address("2.0.0.127.zen.test", "127.0.0.2")
                .txtRecord("2.0.0.127.zen.test", RBL_REASON)
                .address("spam.example.dbl.test", "127.0.1.2");
    }

    @BeforeAll
    static void start() {
        Dnsmasq.require();
        dns = records().start();
        resolver = component(dns.server(), "2s").component;
    }

    @AfterAll
    static void stop() {
        if (resolver != null) {
            resolver.deactivate();
        }
        if (dns != null) {
            dns.close();
        }
    }

    record Running(DnsResolverComponent component, FakeSnapshot.Source source) {
    }

    static Running component(String servers, String timeout) {
        FakeSnapshot.Source source = new FakeSnapshot.Source(
                FakeSnapshot.of("estafeta_dns_servers", servers, "estafeta_dns_timeout", timeout));
        DnsResolverComponent c = new DnsResolverComponent();
        c.setConfig(source);
        c.activate();
        return new Running(c, source);
    }

    private static <T> T get(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void addressesWithTtl() throws Exception {
        DnsResult.Found<InetAddress> a = assertInstanceOf(DnsResult.Found.class, get(resolver.a("mail.fc.test")));
        assertEquals(List.of(ip("192.0.2.10")), a.values());
        assertEquals(Duration.ofSeconds(300), a.ttl());
        assertEquals(List.of(ip("2001:db8::25")), get(resolver.aaaa("v6.fc.test")).values());
        assertEquals(List.of(ip("192.0.2.10")), get(resolver.a("www.fc.test")).values(), "CNAME followed");
        assertEquals(List.of(ip("192.0.2.10")), get(resolver.addresses("MAIL.fc.test.")).values());
    }

    @Test
    void nxdomainAndNoData() throws Exception {
        DnsResult<InetAddress> nx = get(resolver.a("nothing.test"));
        assertEquals(DnsResult.NotFoundReason.NXDOMAIN, assertInstanceOf(DnsResult.NotFound.class, nx).reason());
        DnsResult<MxRecord> nodata = get(resolver.mx("mail.fc.test"));
        assertEquals(DnsResult.NotFoundReason.NO_DATA, assertInstanceOf(DnsResult.NotFound.class, nodata).reason());
        DnsResult<InetAddress> noV6 = get(resolver.aaaa("mail.fc.test"));
        assertEquals(DnsResult.NotFoundReason.NO_DATA, assertInstanceOf(DnsResult.NotFound.class, noV6).reason());
    }

    @Test
    void mxPtrTxt() throws Exception {
        assertEquals(List.of(new MxRecord(10, "mail.fc.test"), new MxRecord(20, "backup.fc.test")),
                get(resolver.mx("mx.test")).values());
        assertEquals(List.of("mail.fc.test"), get(resolver.ptr(ip("192.0.2.10"))).values());
        assertEquals(List.of("v=spf1 -all"), get(resolver.txt("txt.test")).values());
    }

    @Test
    void forwardConfirmedClientNames() throws Exception {
        ClientName v4 = get(resolver.clientName(ip("192.0.2.10")));
        assertEquals("mail.fc.test", v4.name());
        assertEquals(Outcome.FOUND, v4.status());
        assertEquals("mail.fc.test", v4.reverseName());

        ClientName v6 = get(resolver.clientName(ip("2001:db8::25")));
        assertEquals("v6.fc.test", v6.name());
        assertTrue(v6.isVerified());
    }

    @Test
    void unknownClientNames() throws Exception {
        ClientName liar = get(resolver.clientName(ip("192.0.2.11")));
        assertEquals(ClientName.UNKNOWN, liar.name());
        assertEquals(Outcome.NOT_FOUND, liar.status());
        assertEquals("liar.test", liar.reverseName());
        assertEquals(Outcome.FOUND, liar.reverseStatus());

        ClientName ghost = get(resolver.clientName(ip("192.0.2.12")));
        assertEquals(ClientName.UNKNOWN, ghost.name());
        assertEquals(Outcome.NOT_FOUND, ghost.status());
        assertEquals("ghost.test", ghost.reverseName());

        ClientName noPtr = get(resolver.clientName(ip("192.0.2.13")));
        assertEquals(new ClientName(ip("192.0.2.13"), ClientName.UNKNOWN, Outcome.NOT_FOUND, ClientName.UNKNOWN,
                Outcome.NOT_FOUND, "no PTR record for 192.0.2.13"), noPtr);
    }

    @Test
    void rblAndRhsbl() throws Exception {
        DnsblResult listed = get(resolver.rbl(ip("127.0.0.2"), "zen.test"));
        assertTrue(listed.isListed());
        assertEquals("2.0.0.127.zen.test", listed.query());
        assertEquals(List.of(ip("127.0.0.2")), listed.addresses().values());
        assertEquals(RBL_REASON, listed.reason());

        DnsblResult clean = get(resolver.rbl(ip("127.0.0.3"), "zen.test"));
        assertFalse(clean.isListed());
        assertEquals(DnsResult.NotFoundReason.NXDOMAIN,
                ((DnsResult.NotFound<InetAddress>) clean.addresses()).reason());
        assertEquals("", clean.reason());

        DnsblResult rhs = get(resolver.rhsbl("spam.example", "dbl.test"));
        assertTrue(rhs.isListed());
        assertEquals(List.of(ip("127.0.1.2")), rhs.addresses().values());
        assertFalse(get(resolver.rhsbl("good.example", "dbl.test")).isListed());
    }

    @Test
    void cachedAnswersOutliveTheServer() throws Exception {
        Dnsmasq own = records().start();
        Running r = component(own.server(), "1s");
        try {
            assertTrue(get(r.component.a("mail.fc.test")).isFound());
            own.close();
            assertEquals(List.of(ip("192.0.2.10")), get(r.component.a("mail.fc.test")).values(), "from the cache");
            DnsResult<InetAddress> uncached = get(r.component.a("backup.fc.test"));
            assertTrue(uncached.isTemporaryFailure(), uncached.toString());
        } finally {
            r.component.deactivate();
            own.close();
        }
    }

    @Test
    void silentServerIsATemporaryFailureWithinTheTimeout() throws Exception {
        try (DatagramSocket blackHole = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Running r = component("127.0.0.1:" + blackHole.getLocalPort(), "1s");
            try {
                long t0 = System.nanoTime();
                DnsResult<MxRecord> mx = get(r.component.mx("mx.test"));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                DnsResult.TemporaryFailure<MxRecord> t = assertInstanceOf(DnsResult.TemporaryFailure.class, mx);
                assertEquals("timeout after 1s", t.reason());
                assertEquals("mx.test/MX", t.query());
                assertTrue(ms >= 900 && ms < 2500, "took " + ms + " ms");

                ClientName c = get(r.component.clientName(ip("192.0.2.10")));
                assertEquals(Outcome.TEMPORARY_FAILURE, c.status());
                assertEquals(Outcome.TEMPORARY_FAILURE, c.reverseStatus());

                // a reload that names the real server takes effect at once
                r.source.publish(FakeSnapshot.of("estafeta_dns_servers", dns.server(), "estafeta_dns_timeout", "2s"));
                assertEquals(Duration.ofSeconds(2), r.component.timeout());
                assertTrue(get(r.component.mx("mx.test")).isFound());
            } finally {
                r.component.deactivate();
            }
        }
    }

    @Test
    void closedPortIsATemporaryFailure() throws Exception {
        int port;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = s.getLocalPort();
        }
        Running r = component("127.0.0.1:" + port, "2s");
        try {
            DnsResult<InetAddress> a = get(r.component.a("mail.fc.test"));
            assertTrue(a.isTemporaryFailure(), a.toString());
        } finally {
            r.component.deactivate();
        }
    }

    @Test
    void noUsableServerIsATemporaryFailure() throws Exception {
        Running r = component("127.0.0.1:notaport", "2s");
        try {
            DnsResult<InetAddress> a = get(r.component.a("mail.fc.test"));
            assertEquals("no usable nameserver", ((DnsResult.TemporaryFailure<InetAddress>) a).reason());
        } finally {
            r.component.deactivate();
        }
    }
}
