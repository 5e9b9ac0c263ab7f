package org.estafeta.dns;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Objects;

/** The reversed forms of addresses that PTR and DNSBL queries use. */
public final class ReverseNames {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private ReverseNames() {
    }

    /**
     * The address reversed, without a zone: {@code 2.0.0.127} for 127.0.0.2, and for IPv6 the 32 nibbles reversed
     * ({@code 1.0.0.0. ... .8.b.d.0.1.0.0.2} for 2001:db8::1).
     */
    public static String reversed(InetAddress address) {
        Objects.requireNonNull(address, "address");
        byte[] b = address.getAddress();
        StringBuilder sb = new StringBuilder(b.length * 4);
        for (int i = b.length - 1; i >= 0; i--) {
            int v = b[i] & 0xff;
            if (address instanceof Inet4Address) {
                sb.append(v).append('.');
            } else {
                sb.append(HEX[v & 0xf]).append('.').append(HEX[v >> 4]).append('.');
            }
        }
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }

    /** The PTR name: {@code 2.0.0.127.in-addr.arpa}, {@code ....ip6.arpa}. */
    public static String ptrName(InetAddress address) {
        return reversed(address) + (address instanceof Inet4Address ? ".in-addr.arpa" : ".ip6.arpa");
    }

    /** The DNSBL query name of {@code address} under {@code zone} (a trailing dot on the zone is dropped). */
    public static String dnsblName(InetAddress address, String zone) {
        return reversed(address) + "." + stripDot(zone);
    }

    static String stripDot(String name) {
        return name.endsWith(".") && name.length() > 1 ? name.substring(0, name.length() - 1) : name;
    }
}
