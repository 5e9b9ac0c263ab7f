package org.estafeta.transport.smtp.internal;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.tables.TableService;
import org.estafeta.tables.UnsupportedTableTypeException;

/** Certificates made with BouncyCastle, PEM files, server TLS contexts, ports 28500-28599, a map TableService. */
final class TlsFixtures {
    private static final AtomicInteger NEXT = new AtomicInteger(28500 + (int) (ProcessHandle.current().pid() % 10) * 10);

    private TlsFixtures() {
    }

    /** A key and its chain, leaf first. */
    record Issued(PrivateKey key, List<X509Certificate> chain) {
        /** The server context of this key and chain; client certificates are asked for and recorded nowhere. */
        SSLContext serverContext(boolean wantClientAuth) throws Exception {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("k", key, new char[0], chain.toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(kmf.getKeyManagers(), wantClientAuth ? new TrustManager[] {new AnyClient()} : null, null);
            return c;
        }

        /** Writes the chain to {@code cert} and the key to {@code keyFile} as PEM. */
        void write(Path cert, Path keyFile) throws IOException {
            Files.writeString(cert, pem(chain.toArray()));
            Files.writeString(keyFile, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, null)));
        }
    }

    /** A CA (self-signed, RSA) that issues server and client certificates. */
    static final class Ca {
        final Issued self;

        Ca(String name) throws Exception {
            KeyPair kp = keys("RSA");
            self = new Issued(kp.getPrivate(), List.of(sign(name, kp, name, kp.getPrivate(), true, List.of())));
        }

        /** A certificate for {@code cn} with these DNS names, EC P-256 when {@code ec}, else RSA. */
        Issued issue(String cn, boolean ec, String... dnsNames) throws Exception {
            KeyPair kp = keys(ec ? "EC" : "RSA");
            X509Certificate leaf = sign(cn, kp, self.chain().get(0).getSubjectX500Principal().getName(),
                    self.key(), false, List.of(dnsNames));
            return new Issued(kp.getPrivate(), List.of(leaf, self.chain().get(0)));
        }
    }

    /** A self-signed certificate for {@code name} (nobody trusts it). */
    static Issued selfSigned(String name) throws Exception {
        KeyPair kp = keys("RSA");
        return new Issued(kp.getPrivate(), List.of(sign("CN=" + name, kp, "CN=" + name, kp.getPrivate(), false,
                List.of(name))));
    }

    private static KeyPair keys(String algorithm) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
        g.initialize(algorithm.equals("EC") ? 256 : 2048);
        return g.generateKeyPair();
    }

    private static X509Certificate sign(String subject, KeyPair subjectKeys, String issuer, PrivateKey issuerKey,
            boolean ca, List<String> dnsNames) throws Exception {
        String dn = subject.contains("=") ? subject : "CN=" + subject;
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name(issuer.contains("=") ? issuer
                : "CN=" + issuer), BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(1, ChronoUnit.DAYS)),
                Date.from(now.plus(30, ChronoUnit.DAYS)), new X500Name(dn), subjectKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (!dnsNames.isEmpty()) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(dnsNames.stream()
                    .map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new)));
        }
        String alg = issuerKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(alg).build(issuerKey)));
    }

    static String pem(Object... objects) throws IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter p = new JcaPEMWriter(w)) {
            for (Object o : objects) {
                p.writeObject(o);
            }
        }
        return w.toString();
    }

    /** A port of 28500-28599 on 127.0.0.1 that was free a moment ago. */
    static int port() throws IOException {
        for (int i = 0; i < 100; i++) {
            int p = 28500 + Math.floorMod(NEXT.getAndIncrement() - 28500, 100);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), p));
                return p;
            } catch (IOException e) {
                // taken
            }
        }
        throw new IOException("no free port in 28500-28599");
    }

    /** A TableService whose tables are the given maps by name; every key asked for is recorded. */
    static final class MapTables implements TableService {
        final Map<String, Map<String, String>> tables;
        final List<String> asked = new ArrayList<>();

        MapTables(Map<String, Map<String, String>> tables) {
            this.tables = tables;
        }

        @Override
        public LookupTable open(String spec) throws UnsupportedTableTypeException {
            Map<String, String> t = tables.get(spec);
            if (t == null) {
                throw new UnsupportedTableTypeException(spec.substring(0, spec.indexOf(':')));
            }
            return key -> {
                asked.add(spec + " " + key);
                String v = t.get(key);
                return v == null ? LookupResult.notFound() : LookupResult.found(v);
            };
        }

        @Override
        public Set<String> types() {
            return Set.of("test");
        }

        @Override
        public List<String> problems(ConfigSnapshot snapshot) {
            return List.of();
        }
    }

    /** Takes any client certificate (the tests look at what was sent). */
    private static final class AnyClient implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
