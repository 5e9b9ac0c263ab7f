package org.estafeta.transport.smtp.internal;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

import org.estafeta.tls.TlsException;
import org.estafeta.tls.TlsSupport;

/**
 * The client's JSSE contexts, one per set of file parameters (and file versions), so that TLS sessions are
 * resumed from the context's in-memory cache. The server certificate is never refused during the handshake:
 * whether it is trusted ({@code *_tls_CAfile}, {@code *_tls_CApath}, or the JDK's trust store when neither is set)
 * is recorded in the session, and the delivery decides afterwards, as Postfix does.
 */
final class TlsContexts {
    /** The session value that records whether the server's chain is trusted. */
    static final String TRUSTED = "estafeta.trusted";

    private final Map<String, SSLContext> contexts = new ConcurrentHashMap<>();

    /** The context for {@code s}; errors name the parameter and the file. */
    SSLContext context(TlsSettings s) throws TlsException {
        String key = String.join("\0", s.caFile(), s.caPath(), s.certFile(), s.keyFile(), version(s.caFile()),
                version(s.caPath()), version(s.certFile()), version(s.keyFile()), s.sessionTimeout().toString());
        SSLContext c = contexts.get(key);
        if (c == null) {
            c = build(s);
            if (contexts.size() > 16) {
                contexts.clear();
            }
            contexts.put(key, c);
        }
        return c;
    }

    private static String version(String file) {
        if (file.isEmpty()) {
            return "";
        }
        try {
            return Files.size(Path.of(file)) + "@" + Files.getLastModifiedTime(Path.of(file)).toMillis();
        } catch (IOException e) {
            return "absent";
        }
    }

    private static SSLContext build(TlsSettings s) throws TlsException {
        String p = s.prefix();
        try {
            KeyManager[] keys = null;
            if (!s.certFile().isEmpty()) {
                KeyStore store = TlsSupport.keyStore(p + "tls_cert_file", Path.of(s.certFile()), p + "tls_key_file",
                        Path.of(s.keyFile()));
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(store, new char[0]);
                keys = kmf.getKeyManagers();
            }
            KeyStore trust = null;
            if (!s.caFile().isEmpty() || !s.caPath().isEmpty()) {
                trust = KeyStore.getInstance(KeyStore.getDefaultType());
                trust.load(null, null);
                List<X509Certificate> cas = new ArrayList<>();
                if (!s.caFile().isEmpty()) {
                    cas.addAll(TlsSupport.certificates(p + "tls_CAfile", Path.of(s.caFile())));
                }
                if (!s.caPath().isEmpty()) {
                    try (Stream<Path> files = Files.list(Path.of(s.caPath()))) {
                        for (Path f : files.sorted().toList()) {
                            if (Files.isRegularFile(f)) {
                                cas.addAll(TlsSupport.certificates(p + "tls_CApath", f));
                            }
                        }
                    } catch (IOException e) {
                        throw new TlsException(p + "tls_CApath: cannot read " + s.caPath() + ": " + e.getMessage(), e);
                    }
                }
                for (int i = 0; i < cas.size(); i++) {
                    trust.setCertificateEntry("ca" + i, cas.get(i));
                }
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            X509TrustManager pkix = null;
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    pkix = x;
                }
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, new TrustManager[] {new Recording(pkix)}, null);
            context.getClientSessionContext().setSessionTimeout((int) Math.min(Integer.MAX_VALUE,
                    s.sessionTimeout().toSeconds()));
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsException("cannot make a client TLS context: " + e, e);
        }
    }

    /**
     * A client engine for {@code target} with the protocols of {@code policy}; no SNI, as Postfix's default
     * (empty {@code smtp_tls_servername}).
     */
    static SSLEngine engine(SSLContext context, HostFinder.Target target, TlsSettings.Policy policy) {
        SSLEngine engine = context.createSSLEngine(target.host(), target.port());
        engine.setUseClientMode(true);
        List<String> protocols = TlsSupport.protocols(policy.protocolsParameter(), policy.protocols(),
                Set.of(engine.getSupportedProtocols()));
        SSLParameters params = engine.getSSLParameters();
        params.setProtocols(protocols.toArray(String[]::new));
        params.setServerNames(List.of());
        engine.setSSLParameters(params);
        return engine;
    }

    /** Whether the server's chain was trusted in the handshake that made {@code session}. */
    static boolean trusted(SSLSession session) {
        return Boolean.TRUE.equals(session.getValue(TRUSTED));
    }

    /** The server's certificate, or null for an anonymous session. */
    static X509Certificate peer(SSLSession session) {
        try {
            return (X509Certificate) session.getPeerCertificates()[0];
        } catch (SSLPeerUnverifiedException | ClassCastException e) {
            return null;
        }
    }

    /**
     * Whether {@code cert} names one of {@code patterns}, as Postfix's tls_verify.c matches: the DNS names of the
     * subjectAltName, or the common name when there are none; a pattern {@code .example.com} matches any name
     * below example.com, and a certificate name {@code *.example.com} matches one label in its place.
     */
    static boolean matches(X509Certificate cert, List<String> patterns) {
        List<String> names = new ArrayList<>();
        try {
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        names.add(san.get(1).toString());
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return false;
        }
        if (names.isEmpty()) {
            try {
                for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                    if (rdn.getType().equalsIgnoreCase("CN")) {
                        names.add(rdn.getValue().toString());
                    }
                }
            } catch (javax.naming.InvalidNameException e) {
                return false;
            }
        }
        for (String pattern : patterns) {
            String pat = pattern.toLowerCase(Locale.ROOT);
            for (String n : names) {
                String name = n.toLowerCase(Locale.ROOT);
                if (pat.startsWith(".") ? name.length() > pat.length() && name.endsWith(pat)
                        : name.equals(pat) || name.startsWith("*.") && pat.indexOf('.') > 0
                                && pat.substring(pat.indexOf('.')).equals(name.substring(1))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The server certificate check: its outcome goes into the handshake session, nothing is refused here. */
    private static final class Recording extends X509ExtendedTrustManager {
        private final X509TrustManager pkix;

        Recording(X509TrustManager pkix) {
            this.pkix = pkix;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            boolean ok;
            try {
                pkix.checkServerTrusted(chain, authType);
                ok = true;
            } catch (CertificateException | RuntimeException e) {
                ok = false;
            }
            engine.getHandshakeSession().putValue(TRUSTED, ok);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            pkix.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            pkix.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return pkix.getAcceptedIssuers();
        }
    }
}
