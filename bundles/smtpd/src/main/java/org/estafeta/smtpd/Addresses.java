package org.estafeta.smtpd;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/** Address text as Postfix prints it: dotted IPv4, compressed lower-case IPv6 (RFC 5952), {@code [v6]:port}. */
final class Addresses {
    private Addresses() {
    }

    /** {@code 127.0.0.1} or {@code ::1}; the zone of a link-local address is dropped, as in Postfix's logs. */
    static String text(InetAddress address) {
        if (address instanceof Inet6Address v6) {
            return compress(v6.getAddress());
        }
        return address.getHostAddress();
    }

    /** {@code 127.0.0.1:2525} or {@code [::1]:2525}. */
    static String endpoint(SocketAddress socketAddress) {
        if (socketAddress instanceof InetSocketAddress isa && isa.getAddress() != null) {
            String host = text(isa.getAddress());
            return (isa.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + isa.getPort();
        }
        return String.valueOf(socketAddress);
    }

    /** RFC 5952: lower case, no leading zeros, the longest run (two or more, leftmost on ties) of zero groups as {@code ::}. */
    private static String compress(byte[] bytes) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((bytes[2 * i] & 0xff) << 8) | (bytes[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 0;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        if (bestLength < 2) {
            bestStart = -1;
        }
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLength - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups[i]));
        }
        return sb.toString();
    }
}
