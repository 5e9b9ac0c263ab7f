package org.estafeta.api.sasl;

import java.io.IOException;
import java.util.List;
import org.estafeta.api.plugin.PluginContext;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A SASL back end, the thing main.cf's {@code smtpd_sasl_type} names: the built-in one ({@code estafeta}, also
 * answering to Postfix's default {@code cyrus}) runs the {@link SaslMechanism} services present against its
 * password file; {@code dovecot} hands every exchange to Dovecot's authentication server. Register an
 * implementation with {@value #TYPE} set to the type name (a {@code String} or {@code String[]}).
 *
 * <p>smtpd asks {@link #mechanisms} when it builds an EHLO reply (after TLS, again), filters the answer with
 * {@code smtpd_sasl_security_options} or {@code smtpd_sasl_tls_security_options}, and calls {@link #start} for
 * each AUTH command.
 *
 * <p><b>Threading:</b> both methods are called from many sessions at once; each {@link SaslExchange} is used by
 * one session only, one call at a time. <b>Blocking:</b> allowed (Dovecot is a socket away); smtpd calls these
 * off the event loop. <b>Errors:</b> an {@link IOException} (back end unreachable, protocol error) makes smtpd
 * answer {@code 454 4.7.0 Temporary authentication failure} and log a warning naming the back end; it never
 * turns into a success or a silent {@code 535}.
 *
 * <p>Passwords and client responses must never reach a log line.
 */
@ConsumerType
public interface SaslServer {
    /** Service property naming the type (the value of {@code smtpd_sasl_type}). */
    String TYPE = "estafeta.sasl.type";

    /**
     * The mechanisms this back end can run now, in the order to advertise them. {@code context} is the smtpd
     * service's view of main.cf with its master.cf {@code -o} overrides ({@code smtpd_sasl_path},
     * {@code smtpd_sasl_local_domain} and the back end's own parameters).
     */
    List<SaslMechanismInfo> mechanisms(PluginContext context) throws IOException;

    /**
     * Starts one exchange for {@code mechanism} (one of {@link #mechanisms}, upper case). smtpd then calls
     * {@link SaslExchange#respond} with the AUTH command's initial response, or {@code null} when it had none.
     */
    SaslExchange start(String mechanism, SaslSession session, PluginContext context) throws IOException;
}
