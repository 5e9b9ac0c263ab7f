package org.estafeta.tls;

/**
 * A server TLS context could not be made. The message names the parameter and the file, as Postfix's warnings do:
 * {@code smtpd_tls_cert_file: cannot read /etc/x.pem: No such file or directory}.
 */
public class TlsException extends Exception {
    private static final long serialVersionUID = 1L;

    public TlsException(String message) {
        super(message);
    }

    public TlsException(String message, Throwable cause) {
        super(message, cause);
    }
}
