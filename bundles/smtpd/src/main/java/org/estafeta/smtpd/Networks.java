package org.estafeta.smtpd;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.LoggerFactory;

/**
 * A list of networks as Postfix writes {@code mynetworks}: {@code 192.0.2.0/24}, {@code 192.0.2.1},
 * {@code [2001:db8::]/32}, {@code [::1]}. Postfix also allows host names and {@code type:table} there; those need
 * DNS and tables and are skipped here with a warning (the restriction engine evaluates {@code permit_mynetworks}
 * with the full syntax). Matching is a plain scan: these lists are short.
 */
final class Networks {
    static final Networks NONE = new Networks(List.of());

    private record Cidr(byte[] network, int prefix) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (address[full] & mask) == (network[full] & mask);
        }
    }

    private final List<Cidr> cidrs;

    private Networks(List<Cidr> cidrs) {
        this.cidrs = List.copyOf(cidrs);
    }

    /** Parses the list of parameter {@code name}; entries that are not addresses or CIDR blocks are skipped. */
    static Networks parse(String name, List<String> items) {
        List<Cidr> cidrs = new ArrayList<>();
        for (String item : items) {
            Cidr cidr = cidr(item);
            if (cidr == null) {
                LoggerFactory.getLogger("smtpd").warn(name + ": " + item
                        + ": only addresses and network/mask entries are evaluated by smtpd itself; entry ignored");
            } else {
                cidrs.add(cidr);
            }
        }
        return new Networks(cidrs);
    }

    private static Cidr cidr(String item) {
        String text = item;
        int prefix = -1;
        int slash = text.lastIndexOf('/');
        if (slash > 0) {
            try {
                prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                return null;
            }
            text = text.substring(0, slash);
        }
        if (text.startsWith("[") && text.endsWith("]")) {
            text = text.substring(1, text.length() - 1);
        }
        boolean v4 = text.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = !v4 && text.indexOf(':') >= 0 && text.matches("[0-9A-Fa-f:.]+");
        if (!v4 && !v6) {
            return null;
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(text).getAddress(); // a literal: no DNS
        } catch (UnknownHostException e) {
            return null;
        }
        int bits = bytes.length * 8;
        if (prefix < 0) {
            prefix = bits;
        }
        if (prefix > bits) {
            return null;
        }
        return new Cidr(bytes, prefix);
    }

    boolean contains(InetAddress address) {
        if (address == null) {
            return false;
        }
        byte[] bytes = address.getAddress();
        for (Cidr c : cidrs) {
            if (c.contains(bytes)) {
                return true;
            }
        }
        return false;
    }

    boolean isEmpty() {
        return cidrs.isEmpty();
    }
}
