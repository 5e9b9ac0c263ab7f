package org.estafeta.tls.internal;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.estafeta.tls.TlsException;

/**
 * A private key and its certificate chain read from PEM files with BouncyCastle's PEMParser: PKCS#8
 * ({@code PRIVATE KEY}) or traditional ({@code EC PRIVATE KEY}, {@code RSA PRIVATE KEY}) keys, unencrypted, and
 * {@code CERTIFICATE} blocks, in any order and in any of the files (so a {@code keysin.pem} holding both works).
 */
public record KeyMaterial(PrivateKey key, List<X509Certificate> chain) {

    /** What one PEM file holds. */
    public record Contents(List<PrivateKey> keys, List<X509Certificate> certificates) {
    }

    /** Reads every key and certificate of {@code file}; errors name {@code parameter} and the file. */
    public static Contents read(String parameter, Path file) throws TlsException {
        List<PrivateKey> keys = new ArrayList<>();
        List<X509Certificate> certificates = new ArrayList<>();
        JcaPEMKeyConverter keyConverter = new JcaPEMKeyConverter().setProvider(BouncyCastle.PROVIDER);
        JcaX509CertificateConverter certConverter = new JcaX509CertificateConverter();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(reader)) {
            Object o;
            while ((o = parser.readObject()) != null) {
                if (o instanceof X509CertificateHolder holder) {
                    certificates.add(certConverter.getCertificate(holder));
                } else if (o instanceof PEMKeyPair pair) {
                    keys.add(jdk(keyConverter.getPrivateKey(pair.getPrivateKeyInfo())));
                } else if (o instanceof PrivateKeyInfo info) {
                    keys.add(jdk(keyConverter.getPrivateKey(info)));
                } else if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new TlsException(parameter + ": " + file + ": the private key is encrypted; "
                            + "use an unencrypted key, as Postfix requires");
                }
            }
        } catch (NoSuchFileException e) {
            throw new TlsException(parameter + ": cannot read " + file + ": No such file or directory", e);
        } catch (AccessDeniedException e) {
            throw new TlsException(parameter + ": cannot read " + file + ": Permission denied", e);
        } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
            throw new TlsException(parameter + ": cannot read " + file + ": " + e.getMessage(), e);
        }
        return new Contents(keys, certificates);
    }

    /** BouncyCastle (not registered as a JCA provider), for keys the JDK cannot parse itself. */
    private static final class BouncyCastle {
        static final java.security.Provider PROVIDER = new org.bouncycastle.jce.provider.BouncyCastleProvider();
    }

    /**
     * The same key as a JDK key: BouncyCastle parses every PEM form (a traditional {@code EC PRIVATE KEY} whose
     * algorithm identifier lacks the curve included), and its PKCS#8 encoding names the curve, which the JDK's
     * TLS needs.
     */
    static PrivateKey jdk(PrivateKey key) throws java.security.GeneralSecurityException {
        String algorithm = key.getAlgorithm().equals("ECDSA") ? "EC" : key.getAlgorithm();
        return java.security.KeyFactory.getInstance(algorithm)
                .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
    }

    /**
     * The key of {@code keyFile} and the chain of {@code certFile} (the same file may be named twice).
     */
    static KeyMaterial fromFiles(Path certFile, Path keyFile) throws TlsException {
        return fromFiles("smtpd_tls_cert_file", certFile, "smtpd_tls_key_file", keyFile);
    }

    /** The same, with errors naming {@code certParameter} and {@code keyParameter}. */
    public static KeyMaterial fromFiles(String certParameter, Path certFile, String keyParameter, Path keyFile)
            throws TlsException {
        Contents certs = read(certParameter, certFile);
        if (certs.certificates().isEmpty()) {
            throw new TlsException(certParameter + ": cannot read " + certFile + ": no certificate found");
        }
        Contents keys = keyFile.equals(certFile) ? certs : read(keyParameter, keyFile);
        if (keys.keys().isEmpty()) {
            throw new TlsException(keyParameter + ": cannot read " + keyFile + ": no private key found");
        }
        KeyMaterial material = new KeyMaterial(keys.keys().get(0), certs.certificates());
        material.checkMatch(keyParameter + ": " + keyFile + ": the private key does not match the certificate in "
                + certFile);
        return material;
    }

    /** Postfix's smtpd_tls_chain_files: each file a key followed by its chain, leaf first. */
    static KeyMaterial fromChainFiles(List<Path> files) throws TlsException {
        PrivateKey key = null;
        List<X509Certificate> chain = new ArrayList<>();
        for (Path file : files) {
            Contents c = read("smtpd_tls_chain_files", file);
            if (key == null && !c.keys().isEmpty()) {
                key = c.keys().get(0);
            }
            chain.addAll(c.certificates());
        }
        if (key == null) {
            throw new TlsException("smtpd_tls_chain_files: no private key found in " + files);
        }
        if (chain.isEmpty()) {
            throw new TlsException("smtpd_tls_chain_files: no certificate found in " + files);
        }
        KeyMaterial material = new KeyMaterial(key, chain);
        material.checkMatch("smtpd_tls_chain_files: the private key does not match the first certificate in " + files);
        return material;
    }

    /** The key must be the leaf certificate's: same algorithm, and for EC and RSA the same public parameters. */
    void checkMatch(String message) throws TlsException {
        java.security.PublicKey pub = chain.get(0).getPublicKey();
        boolean ok = pub.getAlgorithm().equals(key.getAlgorithm());
        if (ok && key instanceof java.security.interfaces.RSAPrivateCrtKey rsa
                && pub instanceof java.security.interfaces.RSAPublicKey rpub) {
            ok = rsa.getModulus().equals(rpub.getModulus());
        } else if (ok && key instanceof java.security.interfaces.ECPrivateKey ec
                && pub instanceof java.security.interfaces.ECPublicKey epub) {
            ok = Signatures.matches(ec, epub);
        }
        if (!ok) {
            throw new TlsException(message);
        }
    }
}
