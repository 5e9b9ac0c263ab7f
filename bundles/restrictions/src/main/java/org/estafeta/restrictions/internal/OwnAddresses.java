package org.estafeta.restrictions.internal;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The machine's own addresses as inet_interfaces (and proxy_interfaces) name them: Postfix's own_inet_addr(). */
final class OwnAddresses {
    private OwnAddresses() {
    }

    /** Whether the address literal {@code addr} (no brackets) is one of ours. */
    static boolean isOwn(String addr, Params params) {
        byte[] a = HostNames.parseAddress(addr);
        if (a == null) {
            return false;
        }
        List<String> words = new ArrayList<>(params.list("inet_interfaces"));
        words.addAll(params.list("proxy_interfaces"));
        for (String w : words) {
            String lw = HostNames.lower(w);
            if (lw.equals("all")) {
                if (interfaceAddresses().stream().anyMatch(b -> java.util.Arrays.equals(a, b))) {
                    return true;
                }
            } else if (lw.equals("loopback-only")) {
                if (java.util.Arrays.equals(a, HostNames.parseAddress("127.0.0.1"))
                        || java.util.Arrays.equals(a, HostNames.parseAddress("::1"))) {
                    return true;
                }
            } else {
                String bare = w.startsWith("[") && w.endsWith("]") ? w.substring(1, w.length() - 1) : w;
                byte[] b = HostNames.parseAddress(bare);
                if (b != null && java.util.Arrays.equals(a, b)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<byte[]> interfaceAddresses() {
        List<byte[]> out = new ArrayList<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress ia : Collections.list(ni.getInetAddresses())) {
                    byte[] b = ia.getAddress();
                    out.add(b);
                }
            }
        } catch (SocketException e) {
            out.add(HostNames.parseAddress("127.0.0.1"));
        }
        return out;
    }
}
