package org.estafeta.dns.internal;

import static org.estafeta.dns.internal.FakeDnsServer.name;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.estafeta.dns.ClientName;
import org.estafeta.dns.DnsResult;
import org.estafeta.dns.DnsblResult;
import org.estafeta.dns.MxRecord;
import org.estafeta.dns.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.TXTRecord;

class DnsjavaResolverTest {
    private final ExecutorService executor = Executors.newFixedThreadPool(2);
    private final FakeDnsServer server = new FakeDnsServer();
    private DnsEngine engine = new DnsEngine(server, Duration.ofSeconds(2), executor, "fake");
    private final DnsjavaResolver resolver = new DnsjavaResolver(() -> engine);

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    private static <T> T get(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void foundWithValuesAndSmallestTtl() throws Exception {
        server.add(new ARecord(name("mail.example.test"), DClass.IN, 300, ip("192.0.2.1")))
                .add(new ARecord(name("mail.example.test"), DClass.IN, 60, ip("192.0.2.2")));
        DnsResult<InetAddress> r = get(resolver.a("mail.example.test."));
        DnsResult.Found<InetAddress> f = assertInstanceOf(DnsResult.Found.class, r);
        assertEquals(List.of(ip("192.0.2.1"), ip("192.0.2.2")), f.values());
        assertEquals(Duration.ofSeconds(60), f.ttl());
        assertEquals("mail.example.test/A", f.query());
    }

    @Test
    void nxdomainAndNoDataAreTold() throws Exception {
        server.add(new ARecord(name("a-only.example.test"), DClass.IN, 300, ip("192.0.2.1")));
        DnsResult<MxRecord> nodata = get(resolver.mx("a-only.example.test"));
        assertEquals(DnsResult.NotFoundReason.NO_DATA, assertInstanceOf(DnsResult.NotFound.class, nodata).reason());
        DnsResult<InetAddress> nx = get(resolver.a("nothing.example.test"));
        assertEquals(DnsResult.NotFoundReason.NXDOMAIN, assertInstanceOf(DnsResult.NotFound.class, nx).reason());
        assertEquals(Outcome.NOT_FOUND, nx.outcome());
        assertTrue(nx.values().isEmpty());
    }

    @Test
    void servfailAndRefusedAreTemporary() throws Exception {
        server.rcodes.put(name("broken.example.test"), Rcode.SERVFAIL);
        server.rcodes.put(name("refused.example.test"), Rcode.REFUSED);
        DnsResult<InetAddress> s = get(resolver.a("broken.example.test"));
        assertEquals("SERVFAIL", assertInstanceOf(DnsResult.TemporaryFailure.class, s).reason());
        DnsResult<InetAddress> r = get(resolver.a("refused.example.test"));
        assertEquals("REFUSED", assertInstanceOf(DnsResult.TemporaryFailure.class, r).reason());
    }

    @Test
    void silenceIsATemporaryFailureWithinTheTimeout() throws Exception {
        engine = new DnsEngine(server, Duration.ofMillis(400), executor, "fake");
        server.silent.add(name("slow.example.test"));
        long t0 = System.nanoTime();
        DnsResult<InetAddress> r = get(resolver.a("slow.example.test"));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(assertInstanceOf(DnsResult.TemporaryFailure.class, r).reason().startsWith("timeout"));
        assertTrue(ms >= 350 && ms < 3000, "took " + ms + " ms");
    }

    @Test
    void malformedNamesAreNotSent() throws Exception {
        for (String bad : List.of("", ".", "a..b", "two words.test", "x".repeat(64) + ".test", "semi;colon.test",
                ".leading.test")) {
            DnsResult<InetAddress> r = get(resolver.a(bad));
            assertEquals(DnsResult.NotFoundReason.MALFORMED_NAME,
                    assertInstanceOf(DnsResult.NotFound.class, r).reason(), bad);
        }
        assertEquals(List.of(), server.questions);
    }

    @Test
    void unicodeNamesAreAskedAsALabels() throws Exception {
        server.add(new ARecord(name("xn--bcher-kva.test"), DClass.IN, 300, ip("192.0.2.7")));
        assertEquals(List.of(ip("192.0.2.7")), get(resolver.a("bücher.test")).values());
    }

    @Test
    void answersAreCachedForTheirTtl() throws Exception {
        server.add(new ARecord(name("cached.example.test"), DClass.IN, 300, ip("192.0.2.1")));
        server.add(new ARecord(name("zero.example.test"), DClass.IN, 0, ip("192.0.2.2")));
        for (int i = 0; i < 3; i++) {
            assertTrue(get(resolver.a("cached.example.test")).isFound());
            assertTrue(get(resolver.a("zero.example.test")).isFound());
        }
        assertEquals(1, server.count("cached.example.test/A"));
        assertEquals(3, server.count("zero.example.test/A"), "TTL 0 is never cached");
    }

    @Test
    void negativeAnswersAreCachedForTheSoaMinimumOnly() throws Exception {
        for (int i = 0; i < 2; i++) {
            assertTrue(get(resolver.a("gone.example.test")).isNotFound());
        }
        assertEquals(2, server.count("gone.example.test/A"), "no SOA: not cached (RFC 2308)");
        server.soa = FakeDnsServer.soa("example.test", 600);
        for (int i = 0; i < 3; i++) {
            DnsResult<InetAddress> r = get(resolver.a("gone2.example.test"));
            assertEquals(DnsResult.NotFoundReason.NXDOMAIN, ((DnsResult.NotFound<InetAddress>) r).reason());
        }
        assertEquals(1, server.count("gone2.example.test/A"));
        server.add(new ARecord(name("v4.example.test"), DClass.IN, 300, ip("192.0.2.1")));
        for (int i = 0; i < 3; i++) {
            DnsResult<InetAddress> r = get(resolver.aaaa("v4.example.test"));
            assertEquals(DnsResult.NotFoundReason.NO_DATA, ((DnsResult.NotFound<InetAddress>) r).reason());
        }
        assertEquals(1, server.count("v4.example.test/AAAA"));
    }

    @Test
    void aNewEngineStartsWithAnEmptyCache() throws Exception {
        server.add(new ARecord(name("c.example.test"), DClass.IN, 300, ip("192.0.2.1")));
        get(resolver.a("c.example.test"));
        engine = new DnsEngine(server, Duration.ofSeconds(2), executor, "fake");
        get(resolver.a("c.example.test"));
        assertEquals(2, server.count("c.example.test/A"));
    }

    @Test
    void cnamesAreFollowed() throws Exception {
        server.add(new CNAMERecord(name("alias.example.test"), DClass.IN, 300, name("real.example.test")))
                .add(new ARecord(name("real.example.test"), DClass.IN, 300, ip("192.0.2.9")));
        assertEquals(List.of(ip("192.0.2.9")), get(resolver.a("alias.example.test")).values());
    }

    @Test
    void mxSortedByPreferenceAndNullMx() throws Exception {
        server.add(new MXRecord(name("example.test"), DClass.IN, 300, 20, name("backup.example.test")))
                .add(new MXRecord(name("example.test"), DClass.IN, 300, 10, name("mx.example.test")))
                .add(new MXRecord(name("nomail.test"), DClass.IN, 300, 0, name(".")));
        assertEquals(List.of(new MxRecord(10, "mx.example.test"), new MxRecord(20, "backup.example.test")),
                get(resolver.mx("example.test")).values());
        List<MxRecord> nullMx = get(resolver.mx("nomail.test")).values();
        assertEquals(1, nullMx.size());
        assertTrue(nullMx.get(0).isNullMx());
    }

    @Test
    void txtJoinsTheStringsOfOneRecord() throws Exception {
        server.add(new TXTRecord(name("t.example.test"), DClass.IN, 300, List.of("v=spf1 ", "-all")));
        assertEquals(List.of("v=spf1 -all"), get(resolver.txt("t.example.test")).values());
    }

    @Test
    void addressesCombinesAAndAaaa() throws Exception {
        server.add(new ARecord(name("both.test"), DClass.IN, 300, ip("192.0.2.1")))
                .add(new AAAARecord(name("both.test"), DClass.IN, 100, ip("2001:db8::1")))
                .add(new AAAARecord(name("six.test"), DClass.IN, 100, ip("2001:db8::2")));
        server.rcodes.put(name("half.test"), Rcode.SERVFAIL);
        DnsResult.Found<InetAddress> both = assertInstanceOf(DnsResult.Found.class, get(resolver.addresses("both.test")));
        assertEquals(List.of(ip("192.0.2.1"), ip("2001:db8::1")), both.values());
        assertEquals(Duration.ofSeconds(100), both.ttl());
        assertEquals("both.test/A+AAAA", both.query());
        assertEquals(List.of(ip("2001:db8::2")), get(resolver.addresses("six.test")).values());
        assertTrue(get(resolver.addresses("half.test")).isTemporaryFailure());
        DnsResult<InetAddress> none = get(resolver.addresses("none.test"));
        assertEquals(DnsResult.NotFoundReason.NXDOMAIN, ((DnsResult.NotFound<InetAddress>) none).reason());
    }

    @Test
    void clientNameVerified() throws Exception {
        server.add(new PTRRecord(name("10.2.0.192.in-addr.arpa"), DClass.IN, 300, name("Mail.Example.TEST")))
                .add(new ARecord(name("mail.example.test"), DClass.IN, 300, ip("192.0.2.10")));
        ClientName c = get(resolver.clientName(ip("192.0.2.10")));
        assertEquals(new ClientName(ip("192.0.2.10"), "mail.example.test", Outcome.FOUND, "mail.example.test",
                Outcome.FOUND, ""), c);
        assertTrue(c.isVerified());
    }

    @Test
    void clientNameVerifiedByTheSecondPtrName() throws Exception {
        server.add(new PTRRecord(name("10.2.0.192.in-addr.arpa"), DClass.IN, 300, name("first.example.test")))
                .add(new PTRRecord(name("10.2.0.192.in-addr.arpa"), DClass.IN, 300, name("second.example.test")))
                .add(new ARecord(name("first.example.test"), DClass.IN, 300, ip("192.0.2.99")))
                .add(new ARecord(name("second.example.test"), DClass.IN, 300, ip("192.0.2.10")));
        ClientName c = get(resolver.clientName(ip("192.0.2.10")));
        assertEquals("second.example.test", c.name());
        assertEquals("first.example.test", c.reverseName());
    }

    @Test
    void clientNameIpv6UsesAaaa() throws Exception {
        InetAddress a = ip("2001:db8::25");
        server.add(new PTRRecord(name(org.estafeta.dns.ReverseNames.ptrName(a)), DClass.IN, 300, name("v6.example.test")))
                .add(new ARecord(name("v6.example.test"), DClass.IN, 300, ip("192.0.2.25")))
                .add(new AAAARecord(name("v6.example.test"), DClass.IN, 300, a));
        assertEquals("v6.example.test", get(resolver.clientName(a)).name());
        assertEquals(1, server.count("v6.example.test/AAAA"));
        assertEquals(0, server.count("v6.example.test/A"));
    }

    @Test
    void clientNameUnknownAndTemporary() throws Exception {
        server.add(new PTRRecord(name("11.2.0.192.in-addr.arpa"), DClass.IN, 300, name("liar.example.test")))
                .add(new ARecord(name("liar.example.test"), DClass.IN, 300, ip("192.0.2.99")))
                .add(new PTRRecord(name("12.2.0.192.in-addr.arpa"), DClass.IN, 300, name("flaky.example.test")))
                .add(new PTRRecord(name("13.2.0.192.in-addr.arpa"), DClass.IN, 300, name("192.0.2.13")));
        server.rcodes.put(name("flaky.example.test"), Rcode.SERVFAIL);
        server.rcodes.put(name("14.2.0.192.in-addr.arpa"), Rcode.SERVFAIL);

        ClientName liar = get(resolver.clientName(ip("192.0.2.11")));
        assertEquals(ClientName.UNKNOWN, liar.name());
        assertEquals(Outcome.NOT_FOUND, liar.status());
        assertEquals("liar.example.test", liar.reverseName());
        assertEquals(Outcome.FOUND, liar.reverseStatus());
        assertEquals("hostname liar.example.test does not resolve to address 192.0.2.11", liar.detail());

        ClientName flaky = get(resolver.clientName(ip("192.0.2.12")));
        assertEquals(Outcome.TEMPORARY_FAILURE, flaky.status());
        assertEquals("flaky.example.test", flaky.reverseName());

        ClientName numeric = get(resolver.clientName(ip("192.0.2.13")));
        assertEquals(Outcome.NOT_FOUND, numeric.reverseStatus());
        assertEquals(ClientName.UNKNOWN, numeric.reverseName());

        ClientName noPtr = get(resolver.clientName(ip("192.0.2.15")));
        assertEquals(Outcome.NOT_FOUND, noPtr.status());
        assertEquals(Outcome.NOT_FOUND, noPtr.reverseStatus());

        ClientName ptrFails = get(resolver.clientName(ip("192.0.2.14")));
        assertEquals(Outcome.TEMPORARY_FAILURE, ptrFails.status());
        assertEquals(Outcome.TEMPORARY_FAILURE, ptrFails.reverseStatus());
    }

    @Test
    void rblListedWithReasonAndNotListed() throws Exception {
        server.add(new ARecord(name("2.0.0.127.zen.test"), DClass.IN, 300, ip("127.0.0.2")))
                .add(new ARecord(name("2.0.0.127.zen.test"), DClass.IN, 300, ip("127.0.0.4")))
                .add(new TXTRecord(name("2.0.0.127.zen.test"), DClass.IN, 300, "listed for a test"))
                .add(new ARecord(name("spam.example.dbl.test"), DClass.IN, 300, ip("127.0.1.2")));
        DnsblResult listed = get(resolver.rbl(ip("127.0.0.2"), "zen.test"));
        assertTrue(listed.isListed());
        assertEquals("2.0.0.127.zen.test", listed.query());
        assertEquals(List.of(ip("127.0.0.2"), ip("127.0.0.4")), listed.addresses().values());
        assertEquals("listed for a test", listed.reason());

        DnsblResult clean = get(resolver.rbl(ip("127.0.0.3"), "zen.test"));
        assertFalse(clean.isListed());
        assertEquals(Outcome.NOT_FOUND, clean.outcome());
        assertEquals(0, server.count("3.0.0.127.zen.test/TXT"), "TXT is asked only when listed");

        DnsblResult rhs = get(resolver.rhsbl("spam.example.", "dbl.test."));
        assertEquals("spam.example.dbl.test", rhs.query());
        assertTrue(rhs.isListed());
        assertEquals("", rhs.reason(), "listed without TXT");
    }
}
