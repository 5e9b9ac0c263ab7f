package org.estafeta.sasl.dovecot;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/**
 * Where Dovecot's auth-client listener is, from {@code smtpd_sasl_path} as Postfix reads it for
 * {@code smtpd_sasl_type = dovecot}: {@code inet:host:port} (or {@code inet:[address]:port}) for TCP, otherwise a
 * UNIX-domain socket path with an optional {@code unix:} prefix; a relative path is under
 * {@code queue_directory}, where Postfix's smtpd runs ({@code private/auth}).
 *
 * @param name the value as configured, for warnings (Postfix names the socket this way)
 * @param address what to connect to
 */
record AuthSocket(String name, SocketAddress address) {

    /** Parses {@code smtpd_sasl_path}; {@link IllegalArgumentException} when it names no socket. */
    static AuthSocket parse(String path, String queueDirectory) {
        String p = path.strip();
        if (p.isEmpty()) {
            throw new IllegalArgumentException("smtpd_sasl_path is empty");
        }
        if (p.startsWith("inet:")) {
            String hostPort = p.substring(5);
            String host;
            String port;
            if (hostPort.startsWith("[")) {
                int close = hostPort.indexOf(']');
                if (close < 0 || close + 1 >= hostPort.length() || hostPort.charAt(close + 1) != ':') {
                    throw new IllegalArgumentException("bad smtpd_sasl_path: " + p);
                }
                host = hostPort.substring(1, close);
                port = hostPort.substring(close + 2);
            } else {
                int colon = hostPort.lastIndexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException("bad smtpd_sasl_path, expected inet:host:port: " + p);
                }
                host = hostPort.substring(0, colon);
                port = hostPort.substring(colon + 1);
            }
            int n;
            try {
                n = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > 65535 || host.isEmpty()) {
                throw new IllegalArgumentException("bad smtpd_sasl_path, expected inet:host:port: " + p);
            }
            // resolved at connect time, so that a name that moves is followed
            return new AuthSocket(p, InetSocketAddress.createUnresolved(host, n));
        }
        String file = p.startsWith("unix:") ? p.substring(5) : p;
        Path f = Path.of(file);
        if (!f.isAbsolute()) {
            if (queueDirectory == null || queueDirectory.isBlank()) {
                throw new IllegalArgumentException("smtpd_sasl_path " + p + " is relative and queue_directory is not set");
            }
            f = Path.of(queueDirectory).resolve(f);
        }
        return new AuthSocket(p, UnixDomainSocketAddress.of(f));
    }

    /** A fresh address to connect to (an {@code inet:} name is resolved now). */
    SocketAddress connectAddress() {
        if (address instanceof InetSocketAddress inet && inet.isUnresolved()) {
            return new InetSocketAddress(inet.getHostString(), inet.getPort());
        }
        return address;
    }
}
