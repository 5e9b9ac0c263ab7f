package org.estafeta.rewrite.internal;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Host name and address syntax (Postfix's valid_hostname.c, valid_mailhost_addr.c) and own_inet_addr(). The
 * restrictions bundle has equivalents in its internal package (not exported); these are the rewrite bundle's own.
 */
final class Hosts {
    private Hosts() {
    }

    /**
     * valid_utf8_hostname(): dot-separated labels of 1 to 63 letters, digits, '_' and inner '-', at most 255
     * characters, not all numeric; with SMTPUTF8 non-ASCII letters count as letters.
     */
    static boolean validHostname(String name, boolean utf8) {
        if (name.isEmpty() || name.length() > 255) {
            return false;
        }
        int label = 0;
        boolean nonNumeric = false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean last = i + 1 == name.length();
            if (c == '.') {
                if (label == 0 || last) {
                    return false;
                }
                label = 0;
            } else if (c == '-') {
                if (label == 0 || last || name.charAt(i + 1) == '.') {
                    return false;
                }
                label++;
                nonNumeric = true;
            } else if (c >= '0' && c <= '9') {
                label++;
            } else if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || utf8 && c >= 0x80) {
                label++;
                nonNumeric = true;
            } else {
                return false;
            }
            if (label > 63) {
                return false;
            }
        }
        return nonNumeric;
    }

    /** valid_mailhost_literal(): {@code [1.2.3.4]} or {@code [IPv6:...]}. */
    static boolean validMailhostLiteral(String literal) {
        return literal.length() > 2 && literal.startsWith("[") && literal.endsWith("]")
                && parseMailhostAddress(literal.substring(1, literal.length() - 1)) != null;
    }

    /** valid_mailhost_addr(): an IPv4 dotted quad, or an IPv6 address with the {@code IPv6:} prefix; its bytes. */
    static byte[] parseMailhostAddress(String text) {
        if (text.regionMatches(true, 0, "IPv6:", 0, 5)) {
            String v6 = text.substring(5);
            return v6.indexOf(':') >= 0 ? parseAddress(v6) : null;
        }
        return text.indexOf(':') < 0 ? parseAddress(text) : null;
    }

    /** The bytes of an IPv4 dotted quad or an IPv6 address (no brackets); null otherwise. Never asks the DNS. */
    static byte[] parseAddress(String text) {
        if (text.indexOf(':') < 0) {
            String[] parts = text.split("\\.", -1);
            if (parts.length != 4) {
                return null;
            }
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                String p = parts[i];
                if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
                        || Integer.parseInt(p) > 255) {
                    return null;
                }
                b[i] = (byte) Integer.parseInt(p);
            }
            return b;
        }
        if (text.length() > 45 || !text.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
            return null;
        }
        try {
            return InetAddress.getByName(text).getAddress(); // a literal of these characters is parsed, never looked up
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * Whether {@code address} is one of {@code interfaces} as inet_interfaces and proxy_interfaces name them:
     * {@code all} (every address of this machine), {@code loopback-only}, addresses, or host names (resolved).
     */
    static boolean isOwn(byte[] address, List<String> interfaces) {
        for (String word : interfaces) {
            String w = word.toLowerCase(Locale.ROOT);
            List<byte[]> candidates = new ArrayList<>();
            if (w.equals("all")) {
                candidates.addAll(interfaceAddresses());
            } else if (w.equals("loopback-only")) {
                candidates.add(parseAddress("127.0.0.1"));
                candidates.add(parseAddress("::1"));
            } else {
                String bare = w.startsWith("[") && w.endsWith("]") ? w.substring(1, w.length() - 1) : w;
                byte[] literal = parseAddress(bare);
                if (literal != null) {
                    candidates.add(literal);
                } else {
                    try {
                        for (InetAddress a : InetAddress.getAllByName(bare)) {
                            candidates.add(a.getAddress());
                        }
                    } catch (UnknownHostException e) {
                        // Postfix would refuse to start; an unknown name is no address of ours
                    }
                }
            }
            if (candidates.stream().anyMatch(c -> Arrays.equals(c, address))) {
                return true;
            }
        }
        return false;
    }

    private static List<byte[]> interfaceAddresses() {
        List<byte[]> out = new ArrayList<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    out.add(a.getAddress());
                }
            }
        } catch (SocketException e) {
            out.add(parseAddress("127.0.0.1"));
        }
        return out;
    }
}
