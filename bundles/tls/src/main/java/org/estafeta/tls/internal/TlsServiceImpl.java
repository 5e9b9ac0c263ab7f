package org.estafeta.tls.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.tls.ServerTls;
import org.estafeta.tls.TlsException;
import org.estafeta.tls.TlsPolicy;
import org.estafeta.tls.TlsService;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link TlsService}: builds JSSE server contexts from PEM files or the generated certificate, and keeps them
 * per parameter values and file versions.
 */
@Component(service = TlsService.class)
public final class TlsServiceImpl implements TlsService {
    /** The generated certificate lives in {@code $data_directory/tls}. */
    static final String TLS_SUBDIRECTORY = "tls";

    private final Logger log;
    private final Map<String, ServerTls> cache = new ConcurrentHashMap<>();

    public TlsServiceImpl() {
        this(LoggerFactory.getLogger("smtpd"));
    }

    TlsServiceImpl(Logger log) {
        this.log = log;
    }

    @Override
    public ServerTls server(ConfigSnapshot config) throws TlsException {
        String certFile = config.get("smtpd_tls_cert_file").orElse("").trim();
        String keyFile = config.get("smtpd_tls_key_file").orElse("").trim();
        List<String> chainFiles = config.list("smtpd_tls_chain_files");
        String hostname = config.value("myhostname");
        Path tlsDir = Path.of(config.value("data_directory")).resolve(TLS_SUBDIRECTORY);
        TlsPolicy level;
        try {
            level = TlsPolicy.of(config);
        } catch (IllegalArgumentException e) {
            throw new TlsException(e.getMessage(), e);
        }
        String protocolParameter = level == TlsPolicy.ENCRYPT ? "smtpd_tls_mandatory_protocols" : "smtpd_tls_protocols";
        String protocolValue = config.get(protocolParameter).orElse("");
        boolean ask = config.get("smtpd_tls_ask_ccert").map(TlsServiceImpl::yes).orElse(false)
                || (level == TlsPolicy.ENCRYPT && config.get("smtpd_tls_req_ccert").map(TlsServiceImpl::yes).orElse(false));
        String caFile = config.get("smtpd_tls_CAfile").orElse("").strip();
        String caPath = config.get("smtpd_tls_CApath").orElse("").strip();
        String grade = config.get(level == TlsPolicy.ENCRYPT ? "smtpd_tls_mandatory_ciphers" : "smtpd_tls_ciphers")
                .orElse("medium").strip();
        String exclude = config.get(level == TlsPolicy.ENCRYPT ? "smtpd_tls_mandatory_exclude_ciphers" : "smtpd_tls_exclude_ciphers")
                .orElse("").strip();
        long sessionTimeout = config.get("smtpd_tls_session_cache_timeout").isPresent()
                ? config.seconds("smtpd_tls_session_cache_timeout") : 3600;

        List<Path> files = new ArrayList<>();
        if (!chainFiles.isEmpty()) {
            chainFiles.forEach(f -> files.add(Path.of(f)));
        } else if (!certFile.isEmpty()) {
            files.add(Path.of(certFile));
            if (!keyFile.isEmpty()) {
                files.add(Path.of(keyFile));
            }
        } else {
            files.add(tlsDir.resolve(SelfSigned.CERT_FILE));
            files.add(tlsDir.resolve(SelfSigned.KEY_FILE));
        }
        StringBuilder key = new StringBuilder().append(chainFiles).append('\0').append(certFile).append('\0')
                .append(keyFile).append('\0').append(hostname).append('\0').append(tlsDir).append('\0')
                .append(protocolValue).append('\0').append(ask).append('\0').append(caFile).append('\0')
                .append(caPath).append('\0').append(sessionTimeout).append('\0').append(grade).append('\0').append(exclude);
        if (!caFile.isEmpty()) {
            key.append('\0').append(version(Path.of(caFile)));
        }
        for (Path f : files) {
            key.append('\0').append(version(f));
        }
        String cacheKey = key.toString();
        ServerTls cached = cache.get(cacheKey);
        if (cached != null) {
            return cached;
        }
        synchronized (this) {
            cached = cache.get(cacheKey);
            if (cached != null) {
                return cached;
            }
            KeyMaterial material;
            String source;
            if (!chainFiles.isEmpty()) {
                material = KeyMaterial.fromChainFiles(files);
                source = "smtpd_tls_chain_files = " + String.join(" ", chainFiles);
            } else if (!certFile.isEmpty()) {
                if (keyFile.isEmpty()) {
                    throw new TlsException("smtpd_tls_key_file: no key file for " + certFile + " (empty value)");
                }
                material = KeyMaterial.fromFiles(Path.of(certFile), Path.of(keyFile));
                warnIfReadableByOthers(Path.of(keyFile));
                source = certFile.equals(keyFile) ? certFile : certFile + " and " + keyFile;
            } else {
                material = SelfSigned.load(tlsDir, hostname, log);
                source = "self-signed " + tlsDir.resolve(SelfSigned.CERT_FILE);
            }
            List<X509Certificate> authorities = authorities(caFile, caPath);
            SSLContext context = context(material, ask ? authorities : null);
            // JSSE keeps the server's sessions in memory (and issues TLS 1.3 tickets): smtpd_tls_session_cache_timeout
            // bounds how long one may be resumed; smtpd_tls_session_cache_database is accepted and not used
            context.getServerSessionContext().setSessionTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(0, sessionTimeout)));
            List<String> protocols;
            try {
                protocols = Protocols.parse(protocolParameter, protocolValue,
                        Set.of(context.getSupportedSSLParameters().getProtocols()));
            } catch (IllegalArgumentException e) {
                throw new TlsException(e.getMessage(), e);
            }
            List<String> suites;
            try {
                suites = CipherSuites.select(level == TlsPolicy.ENCRYPT ? "smtpd_tls_mandatory_ciphers" : "smtpd_tls_ciphers",
                        grade, exclude, List.of(context.getDefaultSSLParameters().getCipherSuites()));
            } catch (IllegalArgumentException e) {
                throw new TlsException(e.getMessage(), e);
            }
            ServerTls tls = new ServerTls(context, protocols, material.chain(), source, ask, authorities, suites);
            if (cache.size() > 32) {
                cache.clear();
            }
            cache.put(cacheKey, tls);
            return tls;
        }
    }

    private static String version(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return a.size() + "@" + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            return "absent";
        }
    }

    /** The tutorial's advice, as a warning: a private key others can read is a key others have. */
    private void warnIfReadableByOthers(Path key) {
        try {
            var perms = Files.getPosixFilePermissions(key);
            if (perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)
                    || perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_READ)) {
                log.warn("smtpd_tls_key_file: {} is readable by group or others ({}): chmod 600 it",
                        key, java.nio.file.attribute.PosixFilePermissions.toString(perms));
            }
        } catch (IOException | UnsupportedOperationException e) {
            // unreadable attributes: the key was read, nothing to say
        }
    }

    private static boolean yes(String v) {
        return v.strip().equalsIgnoreCase("yes");
    }

    /** The CA certificates of smtpd_tls_CAfile and of every file in smtpd_tls_CApath. */
    static List<X509Certificate> authorities(String caFile, String caPath) throws TlsException {
        List<X509Certificate> cas = new ArrayList<>();
        if (!caFile.isEmpty()) {
            cas.addAll(KeyMaterial.read("smtpd_tls_CAfile", Path.of(caFile)).certificates());
        }
        if (!caPath.isEmpty()) {
            try (var files = Files.list(Path.of(caPath))) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    cas.addAll(KeyMaterial.read("smtpd_tls_CApath", f).certificates());
                }
            } catch (IOException e) {
                throw new TlsException("smtpd_tls_CApath: cannot read " + caPath + ": " + e.getMessage(), e);
            }
        }
        return cas;
    }

    static SSLContext context(KeyMaterial material) throws TlsException {
        return context(material, null);
    }

    /**
     * With {@code askFrom} non-null, the context asks clients for a certificate naming these authorities, and
     * accepts whatever the client presents: Postfix decides afterwards what a (un)trusted certificate may do.
     */
    static SSLContext context(KeyMaterial material, List<X509Certificate> askFrom) throws TlsException {
        try {
            char[] password = new char[0];
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", material.key(), password, material.chain().toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            javax.net.ssl.TrustManager[] trust = askFrom == null ? null : new javax.net.ssl.TrustManager[] {
                new javax.net.ssl.X509TrustManager() {
                    @Override
                    public void checkClientTrusted(X509Certificate[] chain, String authType) {
                        // accepted here; ServerTls.trusted() verifies it after the handshake
                    }

                    @Override
                    public void checkServerTrusted(X509Certificate[] chain, String authType)
                            throws java.security.cert.CertificateException {
                        throw new java.security.cert.CertificateException("server context");
                    }

                    @Override
                    public X509Certificate[] getAcceptedIssuers() {
                        return askFrom.toArray(X509Certificate[]::new);
                    }
                }};
            context.init(kmf.getKeyManagers(), trust, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsException("cannot make a TLS context: " + e, e);
        }
    }
}
