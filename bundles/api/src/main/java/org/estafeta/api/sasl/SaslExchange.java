package org.estafeta.api.sasl;

/**
 * One AUTH exchange with one client. Not shared: the gateway calls it from one thread at a time, in order.
 */
public interface SaslExchange {
    /**
     * Evaluates the client's response (decoded from base64; empty for an empty initial response). Blocking is
     * allowed (a password back end may be remote); it runs on the worker pool.
     */
    SaslStep respond(byte[] response);
}
