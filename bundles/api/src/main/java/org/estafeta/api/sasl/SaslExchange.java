package org.estafeta.api.sasl;

/**
 * One AUTH exchange with one client. Not shared: the gateway calls it from one thread at a time, in order.
 */
public interface SaslExchange {
    /**
     * Evaluates the client's response (decoded from base64; empty for an empty response or the initial response
     * {@code =}; {@code null} on the first call when the AUTH command carried no initial response, so the
     * mechanism sends its first challenge). Blocking is allowed (a password back end may be remote); smtpd calls
     * it off the event loop. An {@link java.io.IOException} is a temporary failure ({@code 454 4.7.0}).
     */
    SaslStep respond(byte[] response) throws java.io.IOException;
}
