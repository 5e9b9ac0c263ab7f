package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/** What the Estafeta side of the differential tests shares. */
final class EstafetaTarget {
    private EstafetaTarget() {
    }

    /** Waits until 127.0.0.1:port accepts connections: Gateway.start may return before the listener is bound. */
    static void awaitListener(int port) throws InterruptedException {
        assertTrue(ItSupport.waitFor(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return true;
            } catch (IOException e) {
                return false;
            }
        }, 30), "the gateway does not listen on 127.0.0.1:" + port);
    }
}
