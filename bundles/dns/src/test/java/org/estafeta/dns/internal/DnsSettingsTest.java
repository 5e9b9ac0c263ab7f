package org.estafeta.dns.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.Test;

class DnsSettingsTest {
    @Test
    void serverForms() throws Exception {
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 53), DnsSettings.parseServer("192.0.2.1"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 5353),
                DnsSettings.parseServer("127.0.0.1:5353"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("::1"), 53), DnsSettings.parseServer("::1"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("::1"), 53), DnsSettings.parseServer("[::1]"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8::5"), 10053),
                DnsSettings.parseServer("[2001:db8::5]:10053"));
        InetSocketAddress local = DnsSettings.parseServer("localhost:54");
        assertTrue(local.getAddress().isLoopbackAddress());
        assertEquals(54, local.getPort());
    }

    @Test
    void badServers() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DnsSettings.parseServer("127.0.0.1:0"))
                .getMessage().contains("bad port"));
        assertThrows(IllegalArgumentException.class, () -> DnsSettings.parseServer("127.0.0.1:x"));
        assertThrows(IllegalArgumentException.class, () -> DnsSettings.parseServer("127.0.0.1:70000"));
        assertThrows(IllegalArgumentException.class, () -> DnsSettings.parseServer("[::1"));
        assertThrows(IllegalArgumentException.class, () -> DnsSettings.parseServer("[::1]53"));
        assertThrows(IllegalArgumentException.class, () -> DnsSettings.parseServer(":53"));
        assertThrows(IllegalArgumentException.class, () -> DnsSettings.parseServer("no-such-host.invalid"));
    }

    @Test
    void fromSnapshot() throws Exception {
        DnsSettings s = DnsSettings.from(FakeSnapshot.of("estafeta_dns_servers", "127.0.0.1:5353, [::1]:5354 bad:x",
                "estafeta_dns_timeout", "2s"));
        assertEquals(List.of(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 5353),
                new InetSocketAddress(InetAddress.getByName("::1"), 5354)), s.servers());
        assertEquals(Duration.ofSeconds(2), s.timeout());
        assertEquals(List.of("estafeta_dns_servers: bad port in \"bad:x\""), s.problems());
        assertTrue(s.configured());
    }

    @Test
    void defaultsAndBadTimeout() {
        DnsSettings s = DnsSettings.from(FakeSnapshot.of());
        assertEquals(List.of(), s.servers());
        assertFalse(s.configured());
        assertEquals(Duration.ofSeconds(5), s.timeout());
        assertEquals(List.of(), s.problems());

        DnsSettings m = DnsSettings.from(FakeSnapshot.of("estafeta_dns_timeout", "1m"));
        assertEquals(Duration.ofSeconds(60), m.timeout());

        DnsSettings bad = DnsSettings.from(FakeSnapshot.of("estafeta_dns_timeout", "0s"));
        assertEquals(Duration.ofSeconds(5), bad.timeout());
        assertEquals(1, bad.problems().size());
    }
}
