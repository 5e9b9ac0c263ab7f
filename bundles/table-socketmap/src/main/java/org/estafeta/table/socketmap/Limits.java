package org.estafeta.table.socketmap;

import java.time.Duration;

/**
 * The socketmap client's limits. {@link #POSTFIX} are Postfix 3.7's dict_sockmap.c constants (which it does not
 * make configurable either): 100 s for connect, write and read together, replies up to 100000 bytes, an idle
 * connection closed after 10 s, any connection closed after 100 s. {@code maxIdleConnections} bounds the
 * connections kept open for reuse (Estafeta looks up from many threads; Postfix's single-threaded process keeps one).
 */
record Limits(Duration timeout, int maxReply, Duration maxIdle, Duration maxTtl, int maxIdleConnections) {
    static final Limits POSTFIX = new Limits(Duration.ofSeconds(100), 100_000, Duration.ofSeconds(10),
            Duration.ofSeconds(100), 16);
}
