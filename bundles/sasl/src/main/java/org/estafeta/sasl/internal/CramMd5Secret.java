package org.estafeta.sasl.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import org.bouncycastle.crypto.digests.MD5Digest;

/**
 * A user's CRAM-MD5 secret (RFC 2195): the HMAC-MD5 key's precomputed inner and outer MD5 states, 16 bytes each
 * (the chaining values A, B, C, D as little-endian words, after absorbing {@code key XOR ipad} and
 * {@code key XOR opad}), as Dovecot's {@code CRAM-MD5} password scheme keeps them. The password itself is not
 * stored, but this secret is <b>password-equivalent for CRAM-MD5</b>: whoever reads it can answer any CRAM-MD5
 * challenge as the user (not log in with PLAIN, LOGIN or SCRAM, which need the password).
 *
 * <p>BouncyCastle's {@link MD5Digest} can be resumed from an encoded state, which the JDK's MD5 cannot; the
 * 16-byte states are moved in and out of that encoding here. Immutable and thread-safe.
 */
public record CramMd5Secret(byte[] inner, byte[] outer) {
    public static final int STATE_LENGTH = 16;
    private static final int BLOCK = 64;

    public CramMd5Secret {
        if (inner.length != STATE_LENGTH || outer.length != STATE_LENGTH) {
            throw new IllegalArgumentException("CRAM-MD5 states must have " + STATE_LENGTH + " bytes");
        }
        inner = inner.clone();
        outer = outer.clone();
    }

    @Override
    public byte[] inner() {
        return inner.clone();
    }

    @Override
    public byte[] outer() {
        return outer.clone();
    }

    /** The secret of {@code password}, in UTF-8 as clients send it (RFC 2195 has no SASLprep step). */
    public static CramMd5Secret derive(String password) {
        byte[] key = password.getBytes(StandardCharsets.UTF_8);
        if (key.length > BLOCK) {
            MD5Digest d = new MD5Digest();
            d.update(key, 0, key.length);
            byte[] hashed = new byte[d.getDigestSize()];
            d.doFinal(hashed, 0);
            Arrays.fill(key, (byte) 0);
            key = hashed;
        }
        byte[] ipad = new byte[BLOCK];
        byte[] opad = new byte[BLOCK];
        for (int i = 0; i < BLOCK; i++) {
            byte k = i < key.length ? key[i] : 0;
            ipad[i] = (byte) (k ^ 0x36);
            opad[i] = (byte) (k ^ 0x5c);
        }
        Arrays.fill(key, (byte) 0);
        try {
            return new CramMd5Secret(stateAfter(ipad), stateAfter(opad));
        } finally {
            Arrays.fill(ipad, (byte) 0);
            Arrays.fill(opad, (byte) 0);
        }
    }

    /** HMAC-MD5 of {@code challenge} under the stored key, resumed from the two states. */
    public byte[] hmac(byte[] challenge) {
        MD5Digest in = resume(inner);
        in.update(challenge, 0, challenge.length);
        byte[] innerHash = new byte[in.getDigestSize()];
        in.doFinal(innerHash, 0);
        MD5Digest out = resume(outer);
        out.update(innerHash, 0, innerHash.length);
        byte[] mac = new byte[out.getDigestSize()];
        out.doFinal(mac, 0);
        return mac;
    }

    /** Whether {@code digest} is the HMAC-MD5 of {@code challenge}; compared in constant time. */
    public boolean verifies(byte[] challenge, byte[] digest) {
        return MessageDigest.isEqual(hmac(challenge), digest);
    }

    // BouncyCastle's encoded MD5 state after whole blocks: bytes 0..15 the general digest's buffer, count and
    // length, 16..31 the chaining values H1..H4 big-endian, then the word-buffer offset (0) and the purpose.

    private static byte[] stateAfter(byte[] block) {
        MD5Digest d = new MD5Digest();
        d.update(block, 0, block.length);
        byte[] encoded = d.getEncodedState();
        byte[] state = new byte[STATE_LENGTH];
        for (int w = 0; w < 4; w++) {
            for (int b = 0; b < 4; b++) {
                state[w * 4 + b] = encoded[16 + w * 4 + 3 - b];
            }
        }
        return state;
    }

    private static MD5Digest resume(byte[] state) {
        MD5Digest template = new MD5Digest();
        template.update(new byte[BLOCK], 0, BLOCK);
        byte[] encoded = template.getEncodedState();
        for (int w = 0; w < 4; w++) {
            for (int b = 0; b < 4; b++) {
                encoded[16 + w * 4 + 3 - b] = state[w * 4 + b];
            }
        }
        return new MD5Digest(encoded);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CramMd5Secret s && Arrays.equals(s.inner, inner) && Arrays.equals(s.outer, outer);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(inner);
    }

    @Override
    public String toString() {
        return "CramMd5Secret[...]";
    }
}
