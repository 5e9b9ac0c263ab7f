package org.estafeta.sasl.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Supplier;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanism;
import org.estafeta.api.sasl.SaslStep;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding: the GS2 header {@code n,,} or {@code y,,} (with an
 * optional {@code a=} authorization identity that must name the user), {@code p=} refused. The exchange is
 * client-first, server-first (nonce, salt, iterations), client-final (proof), server-final ({@code v=} server
 * signature, sent as a challenge), and an empty client response ends it with success. For an unknown user the
 * server answers with a salt derived from the name, so that the server-first message does not tell which names
 * exist; the proof then fails like a wrong password.
 *
 * <p>Thread-safe; each exchange belongs to one session. A password file that cannot be read makes
 * {@link SaslExchange#respond} throw {@link IOException}. Malformed client messages fail with Cyrus's
 * {@code bad protocol / cancel}, never with an exception.
 */
@Component(property = SaslMechanism.NAME + "=" + ScramSha256Mechanism.NAME)
public final class ScramSha256Mechanism implements SaslMechanism {
    static final String NAME = "SCRAM-SHA-256";
    private static final int MAX_MESSAGE = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Per-process key for the decoy salts of unknown users. */
    private static final byte[] DECOY_KEY = RANDOM.generateSeed(32);

    private final SaslDbFiles files;
    private final Supplier<String> serverNonces;

    @Activate
    public ScramSha256Mechanism(@Reference SaslDbFiles files) {
        this(files, ScramSha256Mechanism::serverNonce);
    }

    /** For tests: {@code serverNonces} gives the server's part of each nonce (printable, no comma). */
    ScramSha256Mechanism(SaslDbFiles files, Supplier<String> serverNonces) {
        this.files = files;
        this.serverNonces = serverNonces;
    }

    private static String serverNonce() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    @Override
    public boolean plaintext() {
        return false;
    }

    @Override
    public SaslExchange start(ClientInfo client, PluginContext context) {
        return new Exchange(context);
    }

    /** Thrown inside an exchange for malformed client input; becomes a {@code bad protocol} failure. */
    private static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    private final class Exchange implements SaslExchange {
        private final PluginContext context;
        private int step;
        private String gs2Header;
        private String authzid;
        private String user;
        private String clientFirstBare;
        private String serverFirst;
        private String nonce;
        private ScramSecret secret;
        private boolean known;

        Exchange(PluginContext context) {
            this.context = context;
        }

        @Override
        public SaslStep respond(byte[] response) throws IOException {
            try {
                switch (step) {
                    case 0 -> {
                        if (response == null) {
                            step = 1;
                            return new SaslStep.Challenge(new byte[0]);
                        }
                        step = 2;
                        return clientFirst(response);
                    }
                    case 1 -> {
                        step = 2;
                        return clientFirst(response);
                    }
                    case 2 -> {
                        step = 3;
                        return clientFinal(response);
                    }
                    case 3 -> {
                        step = 4;
                        if (response != null && response.length > 0) {
                            throw new Malformed("expected an empty response after the server signature");
                        }
                        return new SaslStep.Success(user);
                    }
                    default -> throw new Malformed("exchange already finished");
                }
            } catch (Malformed m) {
                step = 4;
                return Failures.protocol(context, NAME, m.getMessage());
            }
        }

        private SaslStep clientFirst(byte[] response) throws Malformed, IOException {
            String m = text(response, "client-first-message");
            if (m.startsWith("p=")) {
                throw new Malformed("channel binding is not supported");
            }
            if (!m.startsWith("n,") && !m.startsWith("y,")) {
                throw new Malformed("client-first-message does not start with n, or y,");
            }
            int comma = m.indexOf(',', 2);
            if (comma < 0) {
                throw new Malformed("GS2 header is not terminated");
            }
            String a = m.substring(2, comma);
            if (!a.isEmpty() && !a.startsWith("a=")) {
                throw new Malformed("bad authorization identity in the GS2 header");
            }
            authzid = a.isEmpty() ? "" : saslName(a.substring(2));
            gs2Header = m.substring(0, comma + 1);
            clientFirstBare = m.substring(comma + 1);
            String[] attrs = clientFirstBare.split(",", -1);
            if (attrs[0].startsWith("m=")) {
                throw new Malformed("unsupported mandatory extension");
            }
            if (attrs.length < 2 || !attrs[0].startsWith("n=") || !attrs[1].startsWith("r=")) {
                throw new Malformed("client-first-message-bare is not n=user,r=nonce");
            }
            String name = saslName(attrs[0].substring(2));
            String clientNonce = attrs[1].substring(2);
            if (name.isEmpty() || clientNonce.isEmpty() || !printable(clientNonce)) {
                throw new Malformed("empty user name or bad nonce");
            }
            user = Users.canonical(name, context);
            Optional<SaslDb.Entry> e = Users.find(files, context, user);
            known = e.isPresent();
            secret = known ? e.get().scram() : decoy(user);
            String serverPart = serverNonces.get();
            if (serverPart.isEmpty() || !printable(serverPart)) {
                throw new IllegalStateException("bad server nonce");
            }
            nonce = clientNonce + serverPart;
            serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(secret.salt()) + ",i="
                    + secret.iterations();
            return new SaslStep.Challenge(serverFirst.getBytes(StandardCharsets.UTF_8));
        }

        private SaslStep clientFinal(byte[] response) throws Malformed {
            String m = text(response, "client-final-message");
            int p = m.lastIndexOf(",p=");
            if (p < 0) {
                throw new Malformed("client-final-message has no proof");
            }
            String withoutProof = m.substring(0, p);
            String[] attrs = withoutProof.split(",", -1);
            if (attrs.length < 2 || !attrs[0].startsWith("c=") || !attrs[1].startsWith("r=")) {
                throw new Malformed("client-final-message is not c=...,r=...,p=...");
            }
            byte[] binding = base64(attrs[0].substring(2), "channel binding");
            if (!Arrays.equals(binding, gs2Header.getBytes(StandardCharsets.UTF_8))) {
                throw new Malformed("channel binding data does not repeat the GS2 header");
            }
            if (!attrs[1].substring(2).equals(nonce)) {
                throw new Malformed("nonce mismatch");
            }
            byte[] proof = base64(m.substring(p + 3), "proof");
            if (proof.length != ScramSecret.KEY_LENGTH) {
                throw new Malformed("proof has " + proof.length + " bytes, not " + ScramSecret.KEY_LENGTH);
            }
            byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof)
                    .getBytes(StandardCharsets.UTF_8);
            byte[] storedKey = secret.storedKey();
            byte[] clientKey = ScramSecret.hmac(storedKey, authMessage);
            for (int i = 0; i < clientKey.length; i++) {
                clientKey[i] ^= proof[i];
            }
            boolean ok = MessageDigest.isEqual(ScramSecret.sha256(clientKey), storedKey);
            Arrays.fill(clientKey, (byte) 0);
            if (!known) {
                step = 4;
                return Failures.authentication(context, NAME, "no such user in " + SaslDbFiles.PATH_PARAMETER);
            }
            if (!ok) {
                step = 4;
                return Failures.authentication(context, NAME, "client proof verification failed");
            }
            if (!authzid.isEmpty() && !authzid.equals(user) && !Users.canonical(authzid, context).equals(user)) {
                step = 4;
                return Failures.authorization(context, NAME, "authorization identity differs from " + user);
            }
            byte[] serverSignature = ScramSecret.hmac(secret.serverKey(), authMessage);
            return new SaslStep.Challenge(
                    ("v=" + Base64.getEncoder().encodeToString(serverSignature)).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static ScramSecret decoy(String user) {
        byte[] salt = Arrays.copyOf(ScramSecret.hmac(DECOY_KEY, user), ScramSecret.SALT_LENGTH);
        byte[] key = new byte[ScramSecret.KEY_LENGTH];
        RANDOM.nextBytes(key);
        return new ScramSecret(ScramSecret.DEFAULT_ITERATIONS, salt, key, key);
    }

    private static String text(byte[] response, String what) throws Malformed {
        if (response == null || response.length == 0) {
            throw new Malformed(what + " expected");
        }
        if (response.length > MAX_MESSAGE) {
            throw new Malformed(what + " too long");
        }
        String s = PasswordCheck.utf8(response);
        if (s == null) {
            throw new Malformed(what + " is not UTF-8");
        }
        if (s.indexOf('\0') >= 0) {
            throw new Malformed("NULs found in " + what);
        }
        return s;
    }

    /** RFC 5802's saslname: {@code =2C} is a comma, {@code =3D} an equals sign, any other {@code =} is an error. */
    private static String saslName(String s) throws Malformed {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '=') {
                if (s.startsWith("2C", i + 1)) {
                    sb.append(',');
                } else if (s.startsWith("3D", i + 1)) {
                    sb.append('=');
                } else {
                    throw new Malformed("bad escape in a user name");
                }
                i += 2;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean printable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7e || c == ',') {
                return false;
            }
        }
        return true;
    }

    private static byte[] base64(String s, String what) throws Malformed {
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new Malformed("bad base64 in the " + what);
        }
    }
}
