package org.estafeta.tls.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

import org.estafeta.testing.FakeSnapshot;
import org.estafeta.tls.ServerTls;
import org.estafeta.tls.TlsException;
import org.estafeta.tls.TlsPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.helpers.NOPLogger;

class TlsServiceImplTest {
    @TempDir
    Path dir;

    private FakeSnapshot config(String... pairs) {
        String[] base = {"myhostname", "mx.example.org", "data_directory", dir.toString(),
                "smtpd_tls_security_level", "may", "smtpd_tls_protocols", ">=TLSv1", "smtpd_tls_mandatory_protocols",
                ">=TLSv1.2", "smtpd_tls_cert_file", "", "smtpd_tls_key_file", ""};
        String[] all = new String[base.length + pairs.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(pairs, 0, all, base.length, pairs.length);
        return FakeSnapshot.of(all);
    }

    @Test
    void generatesOneSelfSignedCertificateAndKeepsIt() throws Exception {
        TlsServiceImpl service = new TlsServiceImpl(NOPLogger.NOP_LOGGER);
        ServerTls first = service.server(config());
        assertEquals("mx.example.org", SelfSigned.commonName(first.chain().get(0)));
        assertEquals("EC", first.chain().get(0).getPublicKey().getAlgorithm());
        Path cert = dir.resolve("tls/smtpd-cert.pem");
        Path key = dir.resolve("tls/smtpd-key.pem");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        // a new service (a restart) presents the same certificate
        ServerTls again = new TlsServiceImpl(NOPLogger.NOP_LOGGER).server(config());
        assertArrayEquals(first.chain().get(0).getEncoded(), again.chain().get(0).getEncoded());
        assertSame(service.server(config()), service.server(config()), "cached");
        // another host name gets a new certificate
        ServerTls other = service.server(config("myhostname", "other.example.org"));
        assertEquals("other.example.org", SelfSigned.commonName(other.chain().get(0)));
        assertTrue(Files.readString(cert).contains("BEGIN CERTIFICATE"));
    }

    @Test
    void readsAPemPairAndAKeysinFileHoldingBoth() throws Exception {
        KeyMaterial m = SelfSigned.generate("pem.example.org");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Files.writeString(cert, pem(m.chain().get(0)));
        Files.writeString(key, pem(m.key()));
        TlsServiceImpl service = new TlsServiceImpl(NOPLogger.NOP_LOGGER);
        ServerTls tls = service.server(config("smtpd_tls_cert_file", cert.toString(), "smtpd_tls_key_file", key.toString()));
        assertEquals("pem.example.org", SelfSigned.commonName(tls.chain().get(0)));
        assertEquals(List.of("TLSv1.2", "TLSv1.3"), tls.protocols().stream().filter(p -> p.compareTo("TLSv1.2") >= 0).toList());
        Path both = dir.resolve("keysin.pem");
        Files.writeString(both, pem(m.key()) + pem(m.chain().get(0)));
        ServerTls one = service.server(config("smtpd_tls_cert_file", both.toString(), "smtpd_tls_key_file", both.toString()));
        assertEquals("pem.example.org", SelfSigned.commonName(one.chain().get(0)));
        ServerTls chain = service.server(config("smtpd_tls_chain_files", both.toString()));
        assertEquals(1, chain.chain().size());
    }

    @Test
    void errorsNameTheParameterAndTheFile() throws Exception {
        TlsServiceImpl service = new TlsServiceImpl(NOPLogger.NOP_LOGGER);
        Path missing = dir.resolve("x.pem");
        TlsException e = assertThrows(TlsException.class, () -> service.server(config("smtpd_tls_cert_file",
                missing.toString(), "smtpd_tls_key_file", missing.toString())));
        assertEquals("smtpd_tls_cert_file: cannot read " + missing + ": No such file or directory", e.getMessage());
        KeyMaterial a = SelfSigned.generate("a.example.org");
        KeyMaterial b = SelfSigned.generate("b.example.org");
        Path cert = dir.resolve("a.pem");
        Path key = dir.resolve("b-key.pem");
        Files.writeString(cert, pem(a.chain().get(0)));
        Files.writeString(key, pem(b.key()));
        e = assertThrows(TlsException.class, () -> service.server(config("smtpd_tls_cert_file", cert.toString(),
                "smtpd_tls_key_file", key.toString())));
        assertEquals("smtpd_tls_key_file: " + key + ": the private key does not match the certificate in " + cert,
                e.getMessage());
        e = assertThrows(TlsException.class, () -> service.server(config("smtpd_tls_cert_file", cert.toString(),
                "smtpd_tls_key_file", cert.toString())));
        assertEquals("smtpd_tls_key_file: cannot read " + cert + ": no private key found", e.getMessage());
    }

    @Test
    void protocolListsAsPostfixWritesThem() {
        Set<String> all = Set.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");
        assertEquals(List.of("TLSv1.2", "TLSv1.3"), Protocols.parse("p", ">=TLSv1.2", all));
        assertEquals(List.of("TLSv1.2", "TLSv1.3"), Protocols.parse("p", "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", all));
        assertEquals(List.of("TLSv1.3"), Protocols.parse("p", "TLSv1.3", all));
        assertEquals(List.of("TLSv1", "TLSv1.1", "TLSv1.2"), Protocols.parse("p", "<=TLSv1.2", all));
        assertEquals("smtpd_tls_protocols: Invalid TLS protocol name: \"TLSv9\"", assertThrows(
                IllegalArgumentException.class, () -> Protocols.parse("smtpd_tls_protocols", ">=TLSv9", all)).getMessage());
    }

    @Test
    void levelFromTheNewAndTheOldParameters() {
        assertEquals(TlsPolicy.NONE, TlsPolicy.of(FakeSnapshot.of("smtpd_tls_security_level", "", "smtpd_use_tls", "no",
                "smtpd_enforce_tls", "no")));
        assertEquals(TlsPolicy.MAY, TlsPolicy.of(FakeSnapshot.of("smtpd_tls_security_level", "", "smtpd_use_tls", "yes",
                "smtpd_enforce_tls", "no")));
        assertEquals(TlsPolicy.ENCRYPT, TlsPolicy.of(FakeSnapshot.of("smtpd_tls_security_level", "", "smtpd_use_tls",
                "no", "smtpd_enforce_tls", "yes")));
        assertEquals(TlsPolicy.NONE, TlsPolicy.of(FakeSnapshot.of("smtpd_tls_security_level", "none", "smtpd_use_tls",
                "yes")));
        assertThrows(IllegalArgumentException.class, () -> TlsPolicy.of(FakeSnapshot.of("smtpd_tls_security_level", "verify")));
    }

    private static String pem(Object o) throws Exception {
        java.io.StringWriter out = new java.io.StringWriter();
        try (org.bouncycastle.openssl.jcajce.JcaPEMWriter w = new org.bouncycastle.openssl.jcajce.JcaPEMWriter(out)) {
            // keys as PKCS#8, as openssl writes them (a JDK key written in the traditional form carries no curve)
            w.writeObject(o instanceof java.security.PrivateKey k ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null) : o);
        }
        return out.toString();
    }
}
