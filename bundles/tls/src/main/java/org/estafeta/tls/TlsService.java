package org.estafeta.tls;

import org.estafeta.config.ConfigSnapshot;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Gives smtpd the server side of TLS for one configuration snapshot (main.cf plus a master.cf entry's {@code -o}).
 * Making a context may read files, generate a key and sign a certificate: call it off the event loop. Results are
 * cached per parameter values (and the files' sizes and modification times), so asking again is cheap.
 */
@ProviderType
public interface TlsService {
    /**
     * The server TLS for {@code config}: the certificate and key of {@code smtpd_tls_chain_files}, or of
     * {@code smtpd_tls_cert_file} and {@code smtpd_tls_key_file}, or, when none of them is set, the self-signed
     * certificate for {@code $myhostname} kept under {@code $data_directory/tls/} (made on first use).
     *
     * @throws TlsException naming the parameter and file when a file cannot be read or does not hold what it must
     */
    ServerTls server(ConfigSnapshot config) throws TlsException;
}
