package org.estafeta.dns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

class ReverseNamesTest {
    @Test
    void ipv4IsReversedByOctet() throws Exception {
        InetAddress a = InetAddress.getByName("127.0.0.2");
        assertEquals("2.0.0.127", ReverseNames.reversed(a));
        assertEquals("2.0.0.127.in-addr.arpa", ReverseNames.ptrName(a));
        assertEquals("2.0.0.127.zen.test", ReverseNames.dnsblName(a, "zen.test."));
        assertEquals("10.2.0.192.zen.test", ReverseNames.dnsblName(InetAddress.getByName("192.0.2.10"), "zen.test"));
    }

    @Test
    void ipv6IsReversedByNibble() throws Exception {
        InetAddress a = InetAddress.getByName("2001:db8::1:2f");
        assertEquals("f.2.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2", ReverseNames.reversed(a));
        assertEquals("f.2.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                ReverseNames.ptrName(a));
    }

    @Test
    void ipv4MappedIpv6IsIpv4() throws Exception {
        assertEquals("4.3.2.1", ReverseNames.reversed(InetAddress.getByName("::ffff:1.2.3.4")));
    }
}
