package org.estafeta.restrictions.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Postfix's host name and address syntax checks (valid_hostname.c, valid_mailhost_addr.c), without any DNS. */
final class HostNames {
    private static final int VALID_LABEL_LEN = 63;
    private static final int VALID_HOSTNAME_LEN = 255;

    private HostNames() {
    }

    /** valid_hostname(): letters, digits, '_', inner hyphens, dot-separated labels of 1..63, not all-numeric. */
    static boolean validHostname(String name) {
        if (name.isEmpty() || name.length() > VALID_HOSTNAME_LEN) {
            return false;
        }
        int labelLength = 0;
        boolean nonNumeric = false;
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            char next = i + 1 < name.length() ? name.charAt(i + 1) : 0;
            if (isAsciiAlnum(ch) || ch == '_') {
                labelLength++;
                if (labelLength > VALID_LABEL_LEN) {
                    return false;
                }
                if (!(ch >= '0' && ch <= '9')) {
                    nonNumeric = true;
                }
            } else if (ch == '.') {
                if (labelLength == 0 || next == 0) {
                    return false;
                }
                labelLength = 0;
            } else if (ch == '-') {
                nonNumeric = true;
                labelLength++;
                if (labelLength == 1 || next == 0 || next == '.') {
                    return false;
                }
            } else {
                return false;
            }
        }
        return nonNumeric;
    }

    /** valid_utf8_hostname(): as {@link #validHostname}, non-ASCII labels allowed only with SMTPUTF8. */
    static boolean validUtf8Hostname(boolean smtputf8, String name) {
        if (smtputf8 && !name.chars().allMatch(c -> c < 0x80)) {
            // Postfix converts to A-labels first; accept labels of letters (any script), digits, '-' and '_'
            String ascii = name.codePoints().mapToObj(c -> c < 0x80 ? String.valueOf((char) c) : "x")
                    .reduce("", String::concat);
            return validHostname(ascii);
        }
        return validHostname(name);
    }

    private static boolean isAsciiAlnum(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
    }

    /** valid_hostaddr(): an IPv4 dotted quad or an IPv6 address (no brackets, no IPv6: prefix). */
    static boolean validHostaddr(String addr) {
        return parseAddress(addr) != null;
    }

    /** valid_mailhost_addr(): as {@link #validHostaddr}, IPv6 written with the {@code IPv6:} prefix. */
    static boolean validMailhostAddr(String addr) {
        if (addr.regionMatches(true, 0, "IPv6:", 0, 5)) {
            String v6 = addr.substring(5);
            return v6.indexOf(':') >= 0 && parseAddress(v6) != null;
        }
        return validIpv4(addr);
    }

    static boolean validIpv4(String addr) {
        String[] parts = addr.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    /** The address bytes of an IPv4 or IPv6 literal, or null; never a DNS lookup. */
    static byte[] parseAddress(String addr) {
        if (addr.isEmpty()) {
            return null;
        }
        if (addr.indexOf(':') < 0) {
            if (!validIpv4(addr)) {
                return null;
            }
            String[] parts = addr.split("\\.");
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                b[i] = (byte) Integer.parseInt(parts[i]);
            }
            return b;
        }
        if (!addr.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0) || addr.length() > 45) {
            return null;
        }
        try {
            // with a ':' and only hex digits, dots and colons this is parsed as a literal, never resolved
            byte[] b = InetAddress.getByName(addr).getAddress();
            if (b.length == 4) { // ::ffff:1.2.3.4 comes back as IPv4; keep IPv6 length for matching
                byte[] v6 = new byte[16];
                v6[10] = (byte) 0xff;
                v6[11] = (byte) 0xff;
                System.arraycopy(b, 0, v6, 12, 4);
                return v6;
            }
            return b;
        } catch (UnknownHostException | RuntimeException e) {
            return null;
        }
    }

    /** Truncates a name that ends in a dot but not two (dup_if_truncate). */
    static String truncateDot(String name) {
        int len = name.length();
        if (len > 1 && name.charAt(len - 1) == '.' && name.charAt(len - 2) != '.') {
            return name.substring(0, len - 1);
        }
        return name;
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /**
     * Splits a restriction list as Postfix's smtpd_check_parse (mystrtokq with white space and commas as
     * separators, {@code { }} grouping one element; the braces are kept as Postfix keeps them).
     */
    static List<String> splitList(String value) {
        return org.estafeta.config.ConfigValues.list(value);
    }
}
