package org.estafeta.filter.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FilterSupportTest {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void addresses() {
        DaemonAddress v6 = DaemonAddress.parse("p", " inet:[::1]:3310 ");
        assertEquals("inet:[::1]:3310", v6.toString());
        assertEquals("::1", ((InetSocketAddress) v6.socket()).getHostString());
        assertEquals(783, ((InetSocketAddress) DaemonAddress.parse("p", "127.0.0.1:783").socket()).getPort());
        assertEquals(UnixDomainSocketAddress.of("/run/clamd.ctl"), DaemonAddress.parse("p", "unix:/run/clamd.ctl").socket());
        assertEquals(UnixDomainSocketAddress.of("/run/clamd.ctl"), DaemonAddress.parse("p", "/run/clamd.ctl").socket());
        assertEquals("p: unix socket path must be absolute: unix:run/x",
                assertThrows(IllegalArgumentException.class, () -> DaemonAddress.parse("p", "unix:run/x")).getMessage());
        assertEquals("p: bad port: inet:host:0",
                assertThrows(IllegalArgumentException.class, () -> DaemonAddress.parse("p", "inet:host:0")).getMessage());
        assertEquals("p: expected inet:[address]:port: inet:[::1]",
                assertThrows(IllegalArgumentException.class, () -> DaemonAddress.parse("p", "inet:[::1]")).getMessage());
        assertEquals("p: expected unix:/path or inet:host:port: clamd",
                assertThrows(IllegalArgumentException.class, () -> DaemonAddress.parse("p", "clamd")).getMessage());
    }

    @Test
    void timeValues() {
        assertEquals(60, TimeValue.seconds("t", "60"));
        assertEquals(90, TimeValue.seconds("t", " 90s"));
        assertEquals(java.time.Duration.ofMinutes(2), TimeValue.duration("t", "2m"));
        // an overflow is a bad value, not a negative timeout
        assertThrows(IllegalArgumentException.class, () -> TimeValue.seconds("t", "9223372036854775807w"));
        assertEquals(120, TimeValue.seconds("t", "2m"));
        assertEquals(7200, TimeValue.seconds("t", "2h"));
        assertEquals(86400, TimeValue.seconds("t", "1d"));
        assertEquals(604800, TimeValue.seconds("t", "1w"));
        assertEquals("t: must be positive: 0s",
                assertThrows(IllegalArgumentException.class, () -> TimeValue.seconds("t", "0s")).getMessage());
        assertEquals("t: bad time value or unit: 5y",
                assertThrows(IllegalArgumentException.class, () -> TimeValue.seconds("t", "5y")).getMessage());
        assertEquals("t: bad time value or unit: s",
                assertThrows(IllegalArgumentException.class, () -> TimeValue.seconds("t", "s")).getMessage());
    }

    @Test
    void aSilentDaemonEndsInATimeoutThatSaysSo() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            DaemonAddress a = DaemonAddress.parse("p", "inet:127.0.0.1:" + server.getLocalPort());
            long start = System.nanoTime();
            try (DaemonConnection c = DaemonConnection.open(a, Duration.ofSeconds(1), timer)) {
                IOException e = assertThrows(IOException.class, () -> c.input().read());
                IOException reported = c.failure("daemon " + a, e);
                assertEquals("daemon inet:127.0.0.1:" + server.getLocalPort() + ": timeout after 1s",
                        reported.getMessage());
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 900 && ms < 10_000, ms + " ms");
        }
    }

    @Test
    void aRefusedConnectionNamesTheAddress() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        DaemonAddress a = DaemonAddress.parse("p", "inet:127.0.0.1:" + port);
        IOException e = assertThrows(IOException.class, () -> DaemonConnection.open(a, Duration.ofSeconds(5), timer));
        assertTrue(e.getMessage().startsWith("connect to inet:127.0.0.1:" + port + ": "), e.getMessage());
    }
}
