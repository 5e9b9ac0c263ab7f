package org.estafeta.api.sasl;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.plugin.PluginContext;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A SASL mechanism for the built-in {@link SaslServer} ({@code smtpd_sasl_type = estafeta} or {@code cyrus}),
 * offered in EHLO's {@code AUTH} line. Register an implementation with {@value #NAME} set to
 * the mechanism name ({@code PLAIN}, {@code SCRAM-SHA-256}); it is advertised when present and allowed by
 * {@code smtpd_sasl_security_options}.
 *
 * <p><b>Threading:</b> {@link #start} is called from many sessions at once; each {@link SaslExchange} is used
 * by one session only. <b>Errors:</b> an exception fails the exchange with {@code 454 4.7.0 Temporary
 * authentication failure}.
 */
@ConsumerType
public interface SaslMechanism {
    /** Service property naming the mechanism. */
    String NAME = "estafeta.sasl.mechanism";

    /** Whether the mechanism sends the password in the clear (Postfix's {@code noplaintext} option hides these). */
    boolean plaintext();

    /** Starts an exchange for a client. */
    SaslExchange start(ClientInfo client, PluginContext context);
}
