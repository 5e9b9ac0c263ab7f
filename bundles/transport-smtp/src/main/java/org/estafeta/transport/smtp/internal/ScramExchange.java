package org.estafeta.transport.smtp.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import javax.security.sasl.SaslException;

import org.estafeta.transport.smtp.internal.SaslPasswords.Credentials;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding ({@code n,,}): client-first, then
 * the proof for the server's nonce, salt and iteration count, then the check of the server's signature (a server
 * that cannot prove it knows the password is refused). The password is used as given (no SASLprep).
 *
 * <p>One dialogue, one thread.
 */
final class ScramExchange implements SaslMechanisms.Exchange {
    /** More iterations than this is taken as a hostile server, not a careful one. */
    private static final int MAX_ITERATIONS = 1_000_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Credentials credentials;
    private final String clientNonce;
    private final String clientFirstBare;
    private byte[] expectedServerSignature;
    private int step;

    ScramExchange(Credentials credentials) {
        this(credentials, nonce());
    }

    /** With a given client nonce (RFC 7677's test vector). */
    ScramExchange(Credentials credentials, String clientNonce) {
        this.credentials = credentials;
        this.clientNonce = clientNonce;
        this.clientFirstBare = "n=" + saslName(credentials.username()) + ",r=" + clientNonce;
    }

    private static String nonce() {
        byte[] n = new byte[18];
        RANDOM.nextBytes(n);
        return Base64.getEncoder().encodeToString(n);
    }

    /** RFC 5802's saslname: '=' and ',' escaped. */
    static String saslName(String user) {
        return user.replace("=", "=3D").replace(",", "=2C");
    }

    @Override
    public byte[] initialResponse() {
        step = 1;
        return ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] next(byte[] challenge) throws SaslException {
        String message = new String(challenge, StandardCharsets.UTF_8);
        if (step == 0) {
            // the server asked for the client-first message with an empty challenge
            if (!message.isEmpty()) {
                throw new SaslException("bad protocol / cancel");
            }
            return initialResponse();
        }
        if (step == 1) {
            step = 2;
            return clientFinal(message);
        }
        if (step == 2) {
            step = 3;
            if (message.startsWith("e=")) {
                throw new SaslException("authentication failure");
            }
            if (!message.startsWith("v=")) {
                throw new SaslException("bad protocol / cancel");
            }
            byte[] v;
            try {
                v = Base64.getDecoder().decode(attribute(message, 'v'));
            } catch (IllegalArgumentException e) {
                throw new SaslException("bad protocol / cancel");
            }
            if (!MessageDigest.isEqual(v, expectedServerSignature)) {
                throw new SaslException("server signature mismatch");
            }
            return new byte[0];
        }
        throw new SaslException("bad protocol / cancel");
    }

    private byte[] clientFinal(String serverFirst) throws SaslException {
        String nonce = attribute(serverFirst, 'r');
        String salt = attribute(serverFirst, 's');
        String iter = attribute(serverFirst, 'i');
        if (nonce == null || salt == null || iter == null || !nonce.startsWith(clientNonce)
                || nonce.length() == clientNonce.length()) {
            throw new SaslException("bad protocol / cancel");
        }
        int iterations;
        byte[] saltBytes;
        try {
            iterations = Integer.parseInt(iter);
            saltBytes = Base64.getDecoder().decode(salt);
        } catch (IllegalArgumentException e) {
            throw new SaslException("bad protocol / cancel");
        }
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new SaslException("bad protocol / cancel");
        }
        String withoutProof = "c=biws,r=" + nonce;
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        char[] password = credentials.password().toCharArray();
        try {
            PBEKeySpec spec = new PBEKeySpec(password, saltBytes, iterations, 256);
            byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
            spec.clearPassword();
            byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
            byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
            byte[] signature = hmac(storedKey, authMessage.getBytes(StandardCharsets.UTF_8));
            byte[] proof = new byte[clientKey.length];
            for (int i = 0; i < proof.length; i++) {
                proof[i] = (byte) (clientKey[i] ^ signature[i]);
            }
            byte[] serverKey = hmac(salted, "Server Key".getBytes(StandardCharsets.US_ASCII));
            expectedServerSignature = hmac(serverKey, authMessage.getBytes(StandardCharsets.UTF_8));
            Arrays.fill(salted, (byte) 0);
            return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new SaslException("generic failure");
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }

    /** The value of {@code name=} in a comma-separated SCRAM message, or null. */
    private static String attribute(String message, char name) {
        for (String part : message.split(",")) {
            if (part.length() >= 2 && part.charAt(0) == name && part.charAt(1) == '=') {
                return part.substring(2);
            }
        }
        return null;
    }

    @Override
    public void close() {
        if (expectedServerSignature != null) {
            Arrays.fill(expectedServerSignature, (byte) 0);
        }
    }
}
