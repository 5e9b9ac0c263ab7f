package org.estafeta.api.message;

import java.util.Objects;
import java.util.Optional;

/**
 * What the gateway knows of the SMTP client that handed a message over, as Postfix's
 * {@code client=host[address]} log field and its restriction stages see it.
 *
 * @param address the client's IP address, as text ({@code 192.0.2.1}, {@code 2001:db8::1})
 * @param hostname the verified reverse name, or {@code unknown} when it has none (Postfix's convention)
 * @param helo the HELO/EHLO argument, empty before the client sent one
 * @param tls whether the session was encrypted when the message was received
 * @param saslUsername the authenticated SASL user name, empty if the client did not authenticate
 */
public record ClientInfo(String address, String hostname, String helo, boolean tls, Optional<String> saslUsername) {
    public static final String UNKNOWN = "unknown";

    public ClientInfo {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(helo, "helo");
        Objects.requireNonNull(saslUsername, "saslUsername");
    }

    /** {@code host[address]}, the form Postfix logs and puts in Received headers. */
    public String hostAndAddress() {
        return hostname + "[" + address + "]";
    }
}
