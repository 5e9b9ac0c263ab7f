package org.estafeta.tls;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;

import org.estafeta.tls.internal.KeyMaterial;
import org.estafeta.tls.internal.Protocols;

/**
 * What the server side reads, for other TLS users (the smtp client): PEM keys and certificates read with
 * BouncyCastle, and Postfix's protocol lists. Errors name the parameter and the file, as for smtpd.
 */
public final class TlsSupport {
    private TlsSupport() {
    }

    /**
     * A PKCS#12 key store (empty password, alias {@code key}) with the private key of {@code keyFile} and the
     * certificate chain of {@code certFile} (the same file may be named twice); RSA or ECDSA, unencrypted.
     */
    public static KeyStore keyStore(String certParameter, Path certFile, String keyParameter, Path keyFile)
            throws TlsException {
        KeyMaterial m = KeyMaterial.fromFiles(certParameter, certFile, keyParameter, keyFile);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("key", m.key(), new char[0], m.chain().toArray(X509Certificate[]::new));
            return store;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new TlsException(keyParameter + ": cannot use " + keyFile + ": " + e, e);
        }
    }

    /** Every certificate of a PEM file; text around the blocks is ignored. */
    public static List<X509Certificate> certificates(String parameter, Path file) throws TlsException {
        return KeyMaterial.read(parameter, file).certificates();
    }

    /**
     * The JSSE protocol names a Postfix protocol list ({@code >=TLSv1.2}, {@code !SSLv2, !SSLv3}) allows, among
     * {@code supported}, oldest first.
     *
     * @throws IllegalArgumentException naming {@code parameter} for a bad name or an empty result
     */
    public static List<String> protocols(String parameter, String value, Set<String> supported) {
        return Protocols.parse(parameter, value, supported);
    }

    /**
     * Postfix's certificate fingerprint: the digest ({@code md5}, {@code sha1}, {@code sha256} ... as
     * {@code smtpd_tls_fingerprint_digest} names it) of the DER certificate, upper-case hex bytes joined with
     * {@code :}, as {@code relay_clientcerts} and {@code check_ccert_access} tables list them.
     */
    public static String certificateFingerprint(X509Certificate certificate, String digest) throws TlsException {
        try {
            return fingerprint(certificate.getEncoded(), digest);
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new TlsException("cannot encode the certificate of " + certificate.getSubjectX500Principal() + ": " + e, e);
        }
    }

    /** Postfix's public-key fingerprint: the digest of the DER SubjectPublicKeyInfo, in the same form. */
    public static String publicKeyFingerprint(X509Certificate certificate, String digest) throws TlsException {
        return fingerprint(certificate.getPublicKey().getEncoded(), digest);
    }

    private static String fingerprint(byte[] der, String digest) throws TlsException {
        String algorithm = switch (digest.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "md5" -> "MD5";
            case "sha1" -> "SHA-1";
            case "sha224" -> "SHA-224";
            case "sha256" -> "SHA-256";
            case "sha384" -> "SHA-384";
            case "sha512" -> "SHA-512";
            default -> throw new TlsException("smtpd_tls_fingerprint_digest: unsupported digest \"" + digest + "\"");
        };
        byte[] d;
        try {
            d = java.security.MessageDigest.getInstance(algorithm).digest(der);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new TlsException("smtpd_tls_fingerprint_digest: " + algorithm + " is not available: " + e, e);
        }
        StringBuilder sb = new StringBuilder();
        for (byte b : d) {
            if (sb.length() > 0) {
                sb.append(':');
            }
            sb.append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                    .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
        }
        return sb.toString();
    }
}
