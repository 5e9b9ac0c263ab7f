package org.estafeta.table.socketmap;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.io.IOException;

/**
 * Where a socketmap server listens, written as Postfix's auto_clnt writes it: {@code inet:host:port}
 * ({@code [ipv6]:port} too) or {@code unix:/path} ({@code local:} is the same as {@code unix:}).
 * Immutable; the host name is resolved at each connect, so a changed DNS entry is followed.
 */
record Endpoint(String text, String host, int port, String path) {

    /** Parses {@code transport:endpoint}; errors are Postfix's texts (auto_clnt.c, host_port.c). */
    static Endpoint parse(String service) throws IllegalArgumentException {
        int colon = service.indexOf(':');
        if (colon <= 0 || colon == service.length() - 1) {
            throw new IllegalArgumentException("need service transport:endpoint instead of \"" + service + "\"");
        }
        String transport = service.substring(0, colon);
        String endpoint = service.substring(colon + 1);
        switch (transport) {
            case "unix", "local":
                return new Endpoint(service, null, 0, endpoint);
            case "inet":
                return inet(service, endpoint);
            default:
                throw new IllegalArgumentException("invalid transport name: " + transport + " in service: " + service);
        }
    }

    private static Endpoint inet(String service, String endpoint) {
        String host;
        String port;
        if (endpoint.startsWith("[")) {
            int close = endpoint.indexOf(']');
            if (close < 0 || close + 1 >= endpoint.length() || endpoint.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("host/service syntax error: " + endpoint);
            }
            host = endpoint.substring(1, close);
            port = endpoint.substring(close + 2);
        } else {
            int last = endpoint.lastIndexOf(':');
            if (last < 0) {
                // Postfix's inet_connect takes "port" alone as localhost:port
                host = "localhost";
                port = endpoint;
            } else {
                host = last == 0 ? "localhost" : endpoint.substring(0, last);
                port = endpoint.substring(last + 1);
            }
        }
        int number;
        try {
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            number = -1;
        }
        if (number <= 0 || number > 65535) {
            throw new IllegalArgumentException("host/service syntax error: " + endpoint
                    + " (the port must be a number from 1 to 65535)");
        }
        return new Endpoint(service, host, number, null);
    }

    boolean isUnix() {
        return path != null;
    }

    /** The address to connect to (an inet name is resolved now, which may block on DNS). */
    SocketAddress address() {
        return isUnix() ? UnixDomainSocketAddress.of(path) : new InetSocketAddress(host, port);
    }

    SocketChannel newChannel() throws IOException {
        return isUnix() ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
    }

    /** The endpoint as Postfix names it in "connect to ..." warnings: without the transport. */
    String logName() {
        return isUnix() ? path : (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return text;
    }
}
