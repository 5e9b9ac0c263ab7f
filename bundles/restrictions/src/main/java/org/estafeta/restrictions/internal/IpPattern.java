package org.estafeta.restrictions.internal;

/**
 * Postfix's ip_match patterns for DNSBL reply codes ({@code reject_rbl_client zone=127.0.0.[2..11;15]}): four
 * octets, each a number or a bracketed list of numbers and ranges separated by {@code ;}.
 */
final class IpPattern {
    private IpPattern() {
    }

    static boolean matches(String pattern, byte[] address) {
        if (address.length != 4) {
            return false;
        }
        String[] octets = splitOctets(pattern);
        if (octets == null || octets.length != 4) {
            return false;
        }
        for (int i = 0; i < 4; i++) {
            if (!octetMatches(octets[i], address[i] & 0xff)) {
                return false;
            }
        }
        return true;
    }

    private static String[] splitOctets(String pattern) {
        java.util.List<String> out = new java.util.ArrayList<>();
        int level = 0;
        int start = 0;
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '[') {
                level++;
            } else if (c == ']') {
                level--;
            } else if (c == '.' && level == 0) {
                out.add(pattern.substring(start, i));
                start = i + 1;
            }
        }
        if (level != 0) {
            return null;
        }
        out.add(pattern.substring(start));
        return out.toArray(new String[0]);
    }

    private static boolean octetMatches(String spec, int value) {
        String s = spec;
        if (s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        } else if (s.indexOf(';') >= 0 || s.contains("..")) {
            return false;
        }
        for (String part : s.split(";")) {
            int range = part.indexOf("..");
            try {
                if (range >= 0) {
                    int lo = Integer.parseInt(part.substring(0, range));
                    int hi = Integer.parseInt(part.substring(range + 2));
                    if (value >= lo && value <= hi) {
                        return true;
                    }
                } else if (Integer.parseInt(part) == value) {
                    return true;
                }
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return false;
    }
}
