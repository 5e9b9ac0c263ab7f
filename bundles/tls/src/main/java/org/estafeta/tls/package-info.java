/**
 * Server TLS for the core: {@link org.estafeta.tls.TlsService} gives smtpd a {@link javax.net.ssl.SSLContext} for a
 * configuration snapshot (PEM files named by {@code smtpd_tls_cert_file}/{@code smtpd_tls_key_file} or
 * {@code smtpd_tls_chain_files}, else a self-signed certificate generated once under {@code $data_directory/tls/}),
 * and {@link org.estafeta.tls.TlsPolicy} reads the Postfix parameters that decide whether STARTTLS is offered or
 * required; {@link org.estafeta.tls.TlsSupport} reads PEM files and protocol lists for other TLS users (the smtp
 * client). Only JDK types cross this API, so no Netty or BouncyCastle type leaks into its users.
 */
@Export
@Version("1.1.0")
package org.estafeta.tls;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
