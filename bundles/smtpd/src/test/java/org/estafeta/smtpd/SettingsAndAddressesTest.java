package org.estafeta.smtpd;

import org.estafeta.master.daemon.ListenAddresses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.Test;

class SettingsAndAddressesTest {

    @Test
    void settingsFallBackToPostfixDefaultsForParametersTheRegistryDoesNotKnow() {
        SmtpdSettings s = SmtpdSettings.from(FakeSnapshot.inet("smtp", "-"), Defaults.of("myhostname", "mx.example.org"));
        assertEquals("mx.example.org", s.myhostname());
        assertEquals("mx.example.org ESMTP Estafeta", s.banner());
        assertEquals(300, s.timeoutSeconds());
        assertEquals(2048, s.lineLengthLimit());
        assertEquals(100, s.processLimit());
    }

    @Test
    void settingsReadTheSnapshot() {
        SmtpdSettings s = SmtpdSettings.from(FakeSnapshot.inet("smtp", "-"), Defaults.of(
                "myhostname", "mx.example.org", "mail_name", "Postfix", "smtpd_timeout", "5m",
                "line_length_limit", "4096", "default_process_limit", "7"));
        assertEquals("mx.example.org ESMTP Postfix", s.banner());
        assertEquals(300, s.timeoutSeconds());
        assertEquals(4096, s.lineLengthLimit());
        assertEquals(7, s.processLimit());
        assertEquals(3, SmtpdSettings.from(FakeSnapshot.inet("smtp", "3"), Defaults.of("default_process_limit", "7")).processLimit());
        assertEquals(0, SmtpdSettings.from(FakeSnapshot.inet("smtp", "0"), Defaults.of()).processLimit());
    }

    @Test
    void badValuesAreRefusedNamingTheParameter() {
        assertEquals("invalid line_length_limit parameter value 100 < 512", assertThrows(IllegalArgumentException.class,
                () -> SmtpdSettings.from(FakeSnapshot.inet("smtp", "-"), Defaults.of("line_length_limit", "100"))).getMessage());
        assertEquals("invalid smtpd_timeout parameter value 0 < 1", assertThrows(IllegalArgumentException.class,
                () -> SmtpdSettings.from(FakeSnapshot.inet("smtp", "-"), Defaults.of("smtpd_timeout", "0s"))).getMessage());
        assertEquals("bad numerical value for max_proc field: many", assertThrows(IllegalArgumentException.class,
                () -> SmtpdSettings.from(FakeSnapshot.inet("smtp", "many"), Defaults.of())).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SmtpdSettings.from(FakeSnapshot.inet("smtp", "-"), Defaults.of("smtpd_timeout", "soon")))
                .getMessage().contains("smtpd_timeout"));
    }

    private static List<InetSocketAddress> resolve(String service, String... interfaces) {
        return ListenAddresses.resolve(service, List.of(interfaces));
    }

    private static InetSocketAddress at(String address, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(address), port);
    }

    @Test
    void serviceColumnForms() throws Exception {
        assertEquals(List.of(at("127.0.0.1", 2525)), resolve("127.0.0.1:2525", "all"));
        assertEquals(List.of(at("::1", 2525)), resolve("[::1]:2525", "all"));
        assertEquals(List.of(at("127.0.0.1", 25)), resolve("127.0.0.1:smtp", "all"));
        assertEquals(List.of(new InetSocketAddress(587)), resolve("submission", "all"));
        assertEquals(List.of(new InetSocketAddress(25)), resolve("smtp", "ALL"));
        assertEquals(List.of(new InetSocketAddress(2525)), resolve("2525"));
    }

    @Test
    void barePortIsBoundOnEachAddressOfInetInterfaces() throws Exception {
        assertEquals(List.of(at("127.0.0.1", 2525)), resolve("2525", "loopback-only"));
        assertEquals(List.of(at("127.0.0.1", 25), at("127.0.0.2", 25), at("::1", 25)),
                resolve("smtp", "127.0.0.1", "127.0.0.2", "[::1]", "127.0.0.1"));
    }

    @Test
    void badServiceColumnsAreRefusedWithTheReason() {
        assertEquals("unknown service name \"smtpx\" in \"smtpx\" (known: lmtp, smtp, smtps, submission, submissions)",
                assertThrows(IllegalArgumentException.class, () -> resolve("smtpx", "all")).getMessage());
        assertEquals("bad port number \"70000\" in \"127.0.0.1:70000\"",
                assertThrows(IllegalArgumentException.class, () -> resolve("127.0.0.1:70000", "all")).getMessage());
        assertEquals("bad port number \"0\" in \"0\"",
                assertThrows(IllegalArgumentException.class, () -> resolve("0", "all")).getMessage());
        assertEquals("missing port in \"127.0.0.1:\"",
                assertThrows(IllegalArgumentException.class, () -> resolve("127.0.0.1:", "all")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resolve("::1:25", "all")).getMessage()
                .startsWith("an IPv6 address must be written as [address]:port"));
        assertEquals("missing \"]:port\" in \"[::1]25\"",
                assertThrows(IllegalArgumentException.class, () -> resolve("[::1]25", "all")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> resolve("300.1.2.3:25", "all")).getMessage()
                .startsWith("bad hostname or network address \"300.1.2.3\""));
    }

    @Test
    void addressesArePrintedAsPostfixPrintsThem() throws Exception {
        assertEquals("127.0.0.1", Addresses.text(InetAddress.getByName("127.0.0.1")));
        assertEquals("::1", Addresses.text(InetAddress.getByName("::1")));
        assertEquals("::", Addresses.text(InetAddress.getByName("::")));
        assertEquals("2001:db8::1", Addresses.text(InetAddress.getByName("2001:0db8:0:0:0:0:0:1")));
        assertEquals("2001:db8:0:1:1:1:1:1", Addresses.text(InetAddress.getByName("2001:db8:0:1:1:1:1:1")));
        assertEquals("2001:0:0:1::1", Addresses.text(InetAddress.getByName("2001:0:0:1:0:0:0:1")));
        assertEquals("fe80::1", Addresses.text(InetAddress.getByName("fe80::1%1")));
        assertEquals("[::1]:25", Addresses.endpoint(at("::1", 25)));
        assertEquals("192.0.2.1:2525", Addresses.endpoint(at("192.0.2.1", 2525)));
    }
}
