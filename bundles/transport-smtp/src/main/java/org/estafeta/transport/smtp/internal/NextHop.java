package org.estafeta.transport.smtp.internal;

import java.util.Locale;

/**
 * One destination of a next-hop list, as Postfix's smtp_parse_destination() reads it: {@code domain},
 * {@code host:port}, {@code [host]}, {@code [host]:port}, {@code [192.0.2.1]:2526}, {@code [ipv6:2001:db8::1]};
 * for lmtp also {@code inet:host:port}. lmtp's {@code unix:path} is not a list: the whole next hop after
 * {@code unix:} is the path ({@link #unix}), as in Postfix's smtp_connect().
 *
 * @param text the destination as written (the TLS policy and SASL password key, the loop text); for a
 *        UNIX-domain socket its path without {@code unix:}, as Postfix uses it
 * @param host the name or address without brackets; {@code $myhostname} for a UNIX-domain socket
 * @param port the TCP port; 0 for a UNIX-domain socket
 * @param bracketed whether the name was in brackets (no MX lookup)
 * @param unixPath the socket path of {@code unix:path} as written, else null
 */
record NextHop(String text, String host, int port, boolean bracketed, String unixPath) {

    /** lmtp's {@code unix:path} next hop, {@code path} without the prefix (relative: under queue_directory). */
    static NextHop unix(String path, String myhostname) {
        return new NextHop(path, myhostname, 0, true, path);
    }

    /** One destination of a list; {@link IllegalArgumentException} with Postfix's text when it is malformed. */
    static NextHop parse(String destination, boolean lmtp) {
        String d = destination.strip();
        if (lmtp && d.startsWith("inet:")) {
            d = d.substring(5);
        }
        int defaultPort = lmtp ? 24 : 25;
        String host;
        String service = null;
        boolean bracketed = d.startsWith("[");
        if (bracketed) {
            int close = d.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("missing \"]\" in server description: " + destination);
            }
            host = d.substring(1, close);
            String rest = d.substring(close + 1);
            if (rest.startsWith(":")) {
                service = rest.substring(1);
            } else if (!rest.isEmpty()) {
                throw new IllegalArgumentException("garbage after \"]\" in server description: " + destination);
            }
            if (host.regionMatches(true, 0, "ipv6:", 0, 5)) {
                host = host.substring(5);
            }
        } else {
            int colon = d.lastIndexOf(':');
            if (colon >= 0 && d.indexOf(':') == colon) {
                host = d.substring(0, colon);
                service = d.substring(colon + 1);
            } else {
                host = d;
            }
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("empty host in server description: " + destination);
        }
        int port = service == null || service.isEmpty() ? defaultPort : port(service, destination);
        return new NextHop(destination.strip(), host, port, bracketed, null);
    }

    private static int port(String service, String destination) {
        switch (service.toLowerCase(Locale.ROOT)) {
            case "smtp":
                return 25;
            case "lmtp":
                return 24;
            case "submission":
                return 587;
            case "smtps":
            case "submissions":
                return 465;
            default:
                break;
        }
        try {
            int p = Integer.parseInt(service);
            if (p > 0 && p < 65536) {
                return p;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("bad network port: " + service + " for destination: " + destination);
    }
}
