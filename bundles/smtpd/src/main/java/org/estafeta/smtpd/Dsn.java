package org.estafeta.smtpd;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** RFC 3461 parameter syntax as Postfix checks it (dsn_notify_mask, dsn_ret_code, xtext_unquote), and ETRN names. */
final class Dsn {
    private Dsn() {
    }

    /** NOTIFY's keywords (upper case), or null when malformed: NEVER alone, or SUCCESS, FAILURE, DELAY. */
    static List<String> notify(String value) {
        List<String> words = new ArrayList<>();
        for (String w : value.split(",", -1)) {
            String k = w.toUpperCase(Locale.ROOT);
            if (!(k.equals("NEVER") || k.equals("SUCCESS") || k.equals("FAILURE") || k.equals("DELAY"))
                    || words.contains(k)) {
                return null;
            }
            words.add(k);
        }
        if (words.contains("NEVER") && words.size() > 1) {
            return null;
        }
        return words;
    }

    /** xtext decoded, or null when malformed ({@code +} not followed by two hex digits, or a byte outside 33..126). */
    static String xtextDecode(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '+') {
                if (i + 2 >= s.length()) {
                    return null;
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                sb.append((char) (hi * 16 + lo));
                i += 2;
            } else if (c < 33 || c > 126 || c == '=') {
                return null;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static boolean printableOrTab(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c == '\t' || c >= 0x20 && c < 0x7f)) {
                return false;
            }
        }
        return true;
    }

    /** ORCPT {@code type;xtext}: a non-empty type and valid xtext without NUL. */
    static boolean validOrcpt(String value) {
        int semi = value.indexOf(';');
        if (semi <= 0) {
            return false;
        }
        String decoded = xtextDecode(value.substring(semi + 1));
        return decoded != null && decoded.indexOf('\0') < 0;
    }

    /** A host name (letters, digits, hyphens, dots; labels of 1..63) or an address literal {@code [..]}. */
    static boolean validHostnameOrLiteral(String s) {
        if (s.startsWith("[") && s.endsWith("]") && s.length() > 2) {
            return s.substring(1, s.length() - 1).matches("[0-9.]+|(?i)ipv6:[0-9a-f:.]+");
        }
        if (s.isEmpty() || s.length() > 255) {
            return false;
        }
        for (String label : s.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || !label.matches("[A-Za-z0-9_-]+")
                    || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
        }
        return true;
    }
}
