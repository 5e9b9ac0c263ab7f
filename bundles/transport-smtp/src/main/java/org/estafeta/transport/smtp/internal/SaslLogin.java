package org.estafeta.transport.smtp.internal;

import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import javax.security.sasl.SaslException;

import org.estafeta.transport.smtp.internal.Connection.SessionException;
import org.estafeta.transport.smtp.internal.SaslMechanisms.Exchange;
import org.estafeta.transport.smtp.internal.SaslMechanisms.Mechanism;
import org.estafeta.transport.smtp.internal.SaslPasswords.Credentials;

/**
 * One AUTH dialogue as Postfix's smtp_sasl_authenticate() runs it: the mechanism chosen from the server's list,
 * {@code AUTH mechanism initial-response} (the initial response waits for the server's empty challenge when the
 * command would exceed 512 octets), base64 challenges and responses while the server answers 3xx, and the outcome
 * as the reason Postfix records. Nothing of the exchange is logged: it carries the password.
 *
 * <p>Blocking, on the delivery thread; reads wait at most {@code timeout} each.
 */
final class SaslLogin {
    /** RFC 5321's command line limit (CRLF included) that AUTH with an initial response must respect. */
    private static final int COMMAND_LIMIT = 512;
    private static final int MAX_STEPS = 100;

    private final Connection c;
    private final Duration timeout;
    private final String where;
    private final boolean softBounce;

    /**
     * @param where the stage named when the server goes away or times out ({@code performing the EHLO handshake})
     */
    SaslLogin(Connection c, Duration timeout, String where, boolean softBounce) {
        this.c = c;
        this.timeout = timeout;
        this.where = where;
        this.softBounce = softBounce;
    }

    /**
     * Authenticates with {@code credentials} using one of {@code offered} that {@code options} allow.
     *
     * @return null when the server accepted, else why the recipients were not delivered
     */
    Why run(List<String> offered, Set<String> options, Credentials credentials)
            throws SessionException, InterruptedException {
        String namaddr = c.target.namaddr();
        Mechanism mech = SaslMechanisms.choose(offered, options);
        if (mech == null) {
            return cannot(namaddr, "no mechanism available");
        }
        String name = mech.mechanismName;
        try (Exchange exchange = mech.start(credentials, c.target.host())) {
            byte[] initial;
            try {
                initial = exchange.initialResponse();
            } catch (SaslException e) {
                return cannot(namaddr, reason(e));
            }
            String pending = initial == null ? "" : base64(initial);
            if (!pending.isEmpty() && name.length() + pending.length() + 8 <= COMMAND_LIMIT) {
                c.send("AUTH " + name + " " + pending);
                pending = "";
            } else {
                c.send("AUTH " + name);
            }
            Response r = c.read(timeout, where);
            int steps = 0;
            while (r.code() / 100 == 3) {
                if (++steps > MAX_STEPS) {
                    return Why.local("4.3.0", "SASL authentication failed; authentication protocol loop with server "
                            + namaddr);
                }
                String challenge = challenge(r);
                if (!pending.isEmpty()) {
                    if (!challenge.isEmpty()) {
                        // Postfix quotes its own pending initial response here; it holds the password, so not we
                        return Why.local("4.7.0", "SASL authentication failed; non-empty initial " + name
                                + " challenge from server " + namaddr + ": protocol error");
                    }
                } else {
                    try {
                        byte[] decoded;
                        try {
                            decoded = Base64.getDecoder().decode(challenge);
                        } catch (IllegalArgumentException e) {
                            throw new SaslException("bad protocol / cancel");
                        }
                        pending = base64(exchange.next(decoded));
                    } catch (SaslException e) {
                        return cannot(namaddr, reason(e));
                    }
                }
                c.send(pending);
                pending = "";
                r = c.read(timeout, where);
            }
            if (r.isPositive()) {
                return null;
            }
            Response failed = softBounce && r.code() / 100 == 5 ? r.withDsn("4" + r.dsn().substring(1)) : r;
            return Why.remote(failed, "SASL authentication failed; server " + namaddr + " said: " + r.text());
        } catch (SaslException e) {
            return cannot(namaddr, reason(e));
        }
    }

    private static Why cannot(String namaddr, String reason) {
        return Why.local("4.7.0", "SASL authentication failed; cannot authenticate to server " + namaddr + ": "
                + reason);
    }

    /** The library's short reason, never anything of the exchange. */
    private static String reason(SaslException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? "generic failure" : m;
    }

    /** The text after the reply code of a 3xx reply: the base64 challenge. */
    private static String challenge(Response r) {
        String line = r.lines().get(0);
        return line.length() > 4 ? line.substring(4).strip() : "";
    }

    private static String base64(byte[] b) {
        return b == null ? "" : Base64.getEncoder().encodeToString(b);
    }
}
