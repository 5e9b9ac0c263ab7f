package org.estafeta.dns.internal;

import org.estafeta.dns.DnsResolver;
import org.estafeta.testing.FakeSnapshot;

/**
 * The dns bundle's real resolver component for the transport's interop tests (its configuration methods are
 * package-private, as the dns bundle's own tests use them).
 */
public final class TestResolvers {
    private TestResolvers() {
    }

    /** An activated resolver asking {@code server} ({@code 127.0.0.1:PORT}); deactivate it with {@link #stop}. */
    public static DnsResolver start(String server) {
        DnsResolverComponent c = new DnsResolverComponent();
        c.setConfig(new FakeSnapshot.Source(FakeSnapshot.of("estafeta_dns_servers", server, "estafeta_dns_timeout", "2s")));
        c.activate();
        return c;
    }

    public static void stop(DnsResolver resolver) {
        ((DnsResolverComponent) resolver).deactivate();
    }
}
