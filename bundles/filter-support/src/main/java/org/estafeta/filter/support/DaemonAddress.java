package org.estafeta.filter.support;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/**
 * Where a daemon listens, written as Postfix writes milter addresses: {@code unix:/path/to/socket},
 * {@code inet:host:port} or {@code inet:[ipv6]:port}; a bare absolute path is a unix socket, a bare
 * {@code host:port} an inet address.
 *
 * <p>Immutable. Parsing never blocks: a host name is resolved only by {@link #resolved()}, when connecting.
 *
 * @param text the address as the operator wrote it (for log lines)
 * @param socket what to connect to (resolved when connecting)
 */
public record DaemonAddress(String text, SocketAddress socket) {
    /** Parses {@code value}; throws {@link IllegalArgumentException} naming {@code parameter} when it is no address. */
    public static DaemonAddress parse(String parameter, String value) {
        String v = value.strip();
        if (v.startsWith("unix:") || v.startsWith("/")) {
            String path = v.startsWith("unix:") ? v.substring(5) : v;
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException(parameter + ": unix socket path must be absolute: " + value);
            }
            return new DaemonAddress(v, UnixDomainSocketAddress.of(Path.of(path)));
        }
        String hostPort = v.startsWith("inet:") ? v.substring(5) : v;
        String host;
        String port;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf("]:");
            if (close < 0) {
                throw new IllegalArgumentException(parameter + ": expected inet:[address]:port: " + value);
            }
            host = hostPort.substring(1, close);
            port = hostPort.substring(close + 2);
        } else {
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException(parameter + ": expected unix:/path or inet:host:port: " + value);
            }
            host = hostPort.substring(0, colon);
            port = hostPort.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (p < 1 || p > 65535) {
            throw new IllegalArgumentException(parameter + ": bad port: " + value);
        }
        return new DaemonAddress(v, InetSocketAddress.createUnresolved(host, p));
    }

    /** The address to connect to, with the host name resolved now. */
    public SocketAddress resolved() {
        if (socket instanceof InetSocketAddress i && i.isUnresolved()) {
            return new InetSocketAddress(i.getHostString(), i.getPort());
        }
        return socket;
    }

    @Override
    public String toString() {
        return text;
    }
}
