package org.estafeta.transport.smtp.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;

import org.estafeta.transport.smtp.internal.SaslPasswords.Credentials;

/**
 * The client's SASL mechanisms and the choice among those a server offers, as the Cyrus client library makes it
 * for Postfix: the mechanisms the security options allow (a mechanism qualifies when it has every property the
 * options ask for: {@code noplaintext} rules out PLAIN and LOGIN, {@code noanonymous} rules out none of these),
 * the strongest first: SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN. PLAIN and CRAM-MD5 are the JDK's own clients
 * ({@link Sasl#createSaslClient}); LOGIN (two base64 lines) and SCRAM-SHA-256 (RFC 5802/7677) are here.
 *
 * <p>Stateless; an {@link Exchange} belongs to one AUTH dialogue on one thread.
 */
final class SaslMechanisms {
    private SaslMechanisms() {
    }

    /** One client mechanism. */
    enum Mechanism {
        SCRAM_SHA_256("SCRAM-SHA-256", Set.of("noplaintext", "noactive", "noanonymous", "mutual_auth")),
        CRAM_MD5("CRAM-MD5", Set.of("noplaintext", "noanonymous")),
        PLAIN("PLAIN", Set.of("noanonymous")),
        LOGIN("LOGIN", Set.of("noanonymous"));

        final String mechanismName;
        /** The security options this mechanism satisfies (Cyrus's security flags of its plug-in). */
        final Set<String> properties;

        Mechanism(String name, Set<String> properties) {
            this.mechanismName = name;
            this.properties = properties;
        }

        /** Whether a session whose security options are {@code options} may use it. */
        boolean allowedBy(Set<String> options) {
            return properties.containsAll(options);
        }

        /** Starts a dialogue for {@code credentials} with server {@code serverName}. */
        Exchange start(Credentials credentials, String serverName) throws SaslException {
            return switch (this) {
                case PLAIN, CRAM_MD5 -> new JdkExchange(mechanismName, credentials, serverName);
                case LOGIN -> new LoginExchange(credentials);
                case SCRAM_SHA_256 -> new ScramExchange(credentials);
            };
        }
    }

    /**
     * The mechanism to use: the first of the client's preference order that the server offers (after
     * {@code *_sasl_mechanism_filter}) and {@code options} allow, or null ("no mechanism available").
     */
    static Mechanism choose(List<String> offered, Set<String> options) {
        for (Mechanism m : Mechanism.values()) {
            if (m.allowedBy(options) && offered.stream().anyMatch(o -> o.equalsIgnoreCase(m.mechanismName))) {
                return m;
            }
        }
        return null;
    }

    /** The client side of one AUTH dialogue. */
    interface Exchange extends AutoCloseable {
        /** The initial response to send with AUTH, or null when the mechanism waits for the server. */
        byte[] initialResponse() throws SaslException;

        /** The response to a server challenge. */
        byte[] next(byte[] challenge) throws SaslException;

        /** Forgets the credentials. */
        @Override
        void close();
    }

    /** PLAIN and CRAM-MD5 through the JDK's SunSASL provider; no authorization identity (send_cyrus_sasl_authzid = no). */
    private static final class JdkExchange implements Exchange {
        private final SaslClient client;
        private final char[] password;

        JdkExchange(String mechanism, Credentials credentials, String serverName) throws SaslException {
            password = credentials.password().toCharArray();
            client = Sasl.createSaslClient(new String[] {mechanism}, null, "smtp", serverName, null, callbacks -> {
                for (Callback cb : callbacks) {
                    if (cb instanceof NameCallback n) {
                        n.setName(credentials.username());
                    } else if (cb instanceof PasswordCallback p) {
                        p.setPassword(password);
                    } else {
                        throw new UnsupportedCallbackException(cb);
                    }
                }
            });
            if (client == null) {
                throw new SaslException("no mechanism available");
            }
        }

        @Override
        public byte[] initialResponse() throws SaslException {
            return client.hasInitialResponse() ? client.evaluateChallenge(new byte[0]) : null;
        }

        @Override
        public byte[] next(byte[] challenge) throws SaslException {
            return client.evaluateChallenge(challenge);
        }

        @Override
        public void close() {
            Arrays.fill(password, '\0');
            try {
                client.dispose();
            } catch (SaslException e) {
                // nothing held
            }
        }
    }

    /** LOGIN: the server prompts (Username:, Password:), the client answers the name, then the password. */
    private static final class LoginExchange implements Exchange {
        private final Credentials credentials;
        private int step;

        LoginExchange(Credentials credentials) {
            this.credentials = credentials;
        }

        @Override
        public byte[] initialResponse() {
            return null;
        }

        @Override
        public byte[] next(byte[] challenge) throws SaslException {
            step++;
            if (step == 1) {
                return credentials.username().getBytes(StandardCharsets.UTF_8);
            }
            if (step == 2) {
                return credentials.password().getBytes(StandardCharsets.UTF_8);
            }
            throw new SaslException("generic failure");
        }

        @Override
        public void close() {
        }
    }
}
