package org.estafeta.tls.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;

/** Whether an EC private key belongs to a public key: a test signature made with one verifies with the other. */
final class Signatures {
    private Signatures() {
    }

    static boolean matches(ECPrivateKey key, ECPublicKey pub) {
        try {
            byte[] probe = "estafeta key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance("SHA256withECDSA");
            v.initVerify(pub);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
