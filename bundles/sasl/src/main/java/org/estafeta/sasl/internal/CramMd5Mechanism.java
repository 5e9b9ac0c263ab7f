package org.estafeta.sasl.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.function.Function;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanism;
import org.estafeta.api.sasl.SaslStep;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * CRAM-MD5 (RFC 2195): the challenge {@code <random.timestamp@myhostname>}, the response
 * {@code user SP hex(HMAC-MD5(password, challenge))}, checked against the user's stored HMAC-MD5 states. Users
 * without a CRAM-MD5 secret (saslpasswd stores one only when asked, {@code -m CRAM-MD5}) fail like a wrong
 * password. No initial response is allowed.
 *
 * <p>Thread-safe; each exchange belongs to one session. A password file that cannot be read makes
 * {@link SaslExchange#respond} throw {@link IOException}.
 */
@Component(property = SaslMechanism.NAME + "=" + CramMd5Mechanism.NAME)
public final class CramMd5Mechanism implements SaslMechanism {
    static final String NAME = "CRAM-MD5";
    private static final SecureRandom RANDOM = new SecureRandom();
    private final SaslDbFiles files;
    private final Function<PluginContext, String> challenges;

    @Activate
    public CramMd5Mechanism(@Reference SaslDbFiles files) {
        this(files, CramMd5Mechanism::challenge);
    }

    /** For tests: {@code challenges} makes the challenge text for a context. */
    CramMd5Mechanism(SaslDbFiles files, Function<PluginContext, String> challenges) {
        this.files = files;
        this.challenges = challenges;
    }

    /** {@code <random.seconds@myhostname>}, as Cyrus makes it. */
    static String challenge(PluginContext context) {
        String host = context.parameter("myhostname").map(String::trim).filter(h -> !h.isEmpty())
                .orElse("localhost");
        long random = RANDOM.nextLong() >>> 1;
        return "<" + random + "." + context.clock().millis() / 1000 + "@" + host + ">";
    }

    @Override
    public boolean plaintext() {
        return false;
    }

    @Override
    public SaslExchange start(ClientInfo client, PluginContext context) {
        return new SaslExchange() {
            private byte[] challenge;
            private boolean done;

            @Override
            public SaslStep respond(byte[] response) throws IOException {
                if (done) {
                    return Failures.protocol(context, NAME, "exchange already finished");
                }
                if (challenge == null) {
                    if (response != null && response.length > 0) {
                        done = true;
                        return Failures.protocol(context, NAME, "CRAM-MD5 does not accept initial data");
                    }
                    challenge = challenges.apply(context).getBytes(StandardCharsets.US_ASCII);
                    return new SaslStep.Challenge(challenge);
                }
                done = true;
                return check(response, challenge, context);
            }
        };
    }

    private SaslStep check(byte[] response, byte[] challenge, PluginContext context) throws IOException {
        String text = response == null ? null : PasswordCheck.utf8(response);
        int sp = text == null ? -1 : text.lastIndexOf(' ');
        if (sp <= 0) {
            return Failures.protocol(context, NAME, "response is not \"user digest\"");
        }
        byte[] digest = hex(text.substring(sp + 1));
        if (digest == null) {
            return Failures.protocol(context, NAME, "digest is not 32 hexadecimal digits");
        }
        String user = Users.canonical(text.substring(0, sp), context);
        Optional<SaslDb.Entry> e = Users.find(files, context, user);
        if (e.isEmpty()) {
            return Failures.authentication(context, NAME, "no such user in " + SaslDbFiles.PATH_PARAMETER);
        }
        if (e.get().cram().isEmpty()) {
            return Failures.authentication(context, NAME, "no CRAM-MD5 secret in database");
        }
        if (!e.get().cram().get().verifies(challenge, digest)) {
            return Failures.authentication(context, NAME, "incorrect digest response");
        }
        return new SaslStep.Success(user);
    }

    private static byte[] hex(String s) {
        if (s.length() != 32) {
            return null;
        }
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) {
            int hi = hexDigit(s.charAt(2 * i));
            int lo = hexDigit(s.charAt(2 * i + 1));
            if (hi < 0 || lo < 0) {
                return null;
            }
            b[i] = (byte) (hi << 4 | lo);
        }
        return b;
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
