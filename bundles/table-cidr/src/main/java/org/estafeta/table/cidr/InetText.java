package org.estafeta.table.cidr;

/**
 * Text to address bytes and back, exactly as the C library's {@code inet_pton()} and {@code inet_ntop()} that
 * Postfix calls: no host names, no short forms such as {@code 10.1}, no leading zeros in IPv4 octets, no zone
 * ids. {@link java.net.InetAddress} is not used because it accepts other forms (and may resolve names).
 */
final class InetText {
    private InetText() {
    }

    /** The family Postfix picks for a text: IPv6 when it contains a colon. */
    static boolean isV6(String text) {
        return text.indexOf(':') >= 0;
    }

    /** {@code inet_pton(AF_INET6 or AF_INET, ...)} by {@link #isV6}; {@code null} when the text is not an address. */
    static byte[] parse(String text) {
        return isV6(text) ? parse6(text) : parse4(text);
    }

    /** glibc's inet_pton4: exactly four decimal octets 0..255, no leading zeros. */
    static byte[] parse4(String s) {
        byte[] out = new byte[4];
        int octets = 0;
        int value = 0;
        boolean sawDigit = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                if (sawDigit && value == 0) {
                    return null;
                }
                value = value * 10 + (c - '0');
                if (value > 255) {
                    return null;
                }
                if (!sawDigit) {
                    if (++octets > 4) {
                        return null;
                    }
                    sawDigit = true;
                }
            } else if (c == '.' && sawDigit) {
                if (octets == 4) {
                    return null;
                }
                out[octets - 1] = (byte) value;
                value = 0;
                sawDigit = false;
            } else {
                return null;
            }
        }
        if (octets < 4 || !sawDigit) {
            return null;
        }
        out[3] = (byte) value;
        return out;
    }

    /** glibc's inet_pton6: hex groups of at most four digits, one {@code ::}, an optional trailing IPv4 part. */
    static byte[] parse6(String s) {
        byte[] out = new byte[16];
        int n = s.length();
        int i = 0;
        if (n == 0) {
            return null;
        }
        if (s.charAt(0) == ':') {
            if (n < 2 || s.charAt(1) != ':') {
                return null;
            }
            i = 1;
        }
        int tp = 0;
        int colonp = -1;
        int curtok = i;
        int digits = 0;
        int val = 0;
        while (i < n) {
            char c = s.charAt(i++);
            int hex = Character.digit(c, 16);
            if (hex >= 0 && c < 0x80) {
                if (++digits > 4) {
                    return null;
                }
                val = (val << 4) | hex;
                continue;
            }
            if (c == ':') {
                curtok = i;
                if (digits == 0) {
                    if (colonp >= 0) {
                        return null;
                    }
                    colonp = tp;
                    continue;
                }
                if (i == n) {
                    return null;
                }
                if (tp + 2 > 16) {
                    return null;
                }
                out[tp++] = (byte) (val >> 8);
                out[tp++] = (byte) val;
                digits = 0;
                val = 0;
                continue;
            }
            if (c == '.' && tp + 4 <= 16) {
                byte[] v4 = parse4(s.substring(curtok));
                if (v4 == null) {
                    return null;
                }
                System.arraycopy(v4, 0, out, tp, 4);
                tp += 4;
                digits = 0;
                break;
            }
            return null;
        }
        if (digits > 0) {
            if (tp + 2 > 16) {
                return null;
            }
            out[tp++] = (byte) (val >> 8);
            out[tp++] = (byte) val;
        }
        if (colonp >= 0) {
            if (tp == 16) {
                return null;
            }
            int moved = tp - colonp;
            for (int k = 1; k <= moved; k++) {
                out[16 - k] = out[colonp + moved - k];
                out[colonp + moved - k] = 0;
            }
            tp = 16;
        }
        return tp == 16 ? out : null;
    }

    /** {@code inet_ntop()}: dotted quad, or glibc's IPv6 form (longest zero run of two or more words as ::). */
    static String format(byte[] a) {
        if (a.length == 4) {
            return (a[0] & 0xff) + "." + (a[1] & 0xff) + "." + (a[2] & 0xff) + "." + (a[3] & 0xff);
        }
        int[] w = new int[8];
        for (int k = 0; k < 8; k++) {
            w[k] = ((a[2 * k] & 0xff) << 8) | (a[2 * k + 1] & 0xff);
        }
        int bestBase = -1;
        int bestLen = 0;
        int curBase = -1;
        int curLen = 0;
        for (int k = 0; k < 8; k++) {
            if (w[k] == 0) {
                if (curBase < 0) {
                    curBase = k;
                    curLen = 1;
                } else {
                    curLen++;
                }
            } else if (curBase >= 0) {
                if (bestBase < 0 || curLen > bestLen) {
                    bestBase = curBase;
                    bestLen = curLen;
                }
                curBase = -1;
            }
        }
        if (curBase >= 0 && (bestBase < 0 || curLen > bestLen)) {
            bestBase = curBase;
            bestLen = curLen;
        }
        if (bestBase >= 0 && bestLen < 2) {
            bestBase = -1;
        }
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < 8; k++) {
            if (bestBase >= 0 && k >= bestBase && k < bestBase + bestLen) {
                if (k == bestBase) {
                    sb.append(':');
                }
                continue;
            }
            if (k != 0) {
                sb.append(':');
            }
            if (k == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff))) {
                sb.append(a[12] & 0xff).append('.').append(a[13] & 0xff).append('.').append(a[14] & 0xff).append('.')
                        .append(a[15] & 0xff);
                return sb.toString();
            }
            sb.append(Integer.toHexString(w[k]));
        }
        if (bestBase >= 0 && bestBase + bestLen == 8) {
            sb.append(':');
        }
        return sb.toString();
    }
}
