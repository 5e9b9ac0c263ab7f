package org.estafeta.sasl.dovecot;

/**
 * Dovecot's escaping of values inside its TAB-separated protocol lines ({@code str_tabescape}): {@code \001}
 * introduces an escape, {@code \001t} is a TAB, {@code \001r} a CR, {@code \001n} an LF, {@code \0011} the
 * {@code \001} itself.
 */
final class TabEscape {
    private static final char ESC = '\001';

    private TabEscape() {
    }

    static String escape(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            char e = switch (c) {
                case ESC -> '1';
                case '\t' -> 't';
                case '\r' -> 'r';
                case '\n' -> 'n';
                default -> 0;
            };
            if (e != 0 && sb == null) {
                sb = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (sb != null) {
                if (e != 0) {
                    sb.append(ESC).append(e);
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? s : sb.toString();
    }

    static String unescape(String s) {
        if (s.indexOf(ESC) < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ESC && i + 1 < s.length()) {
                char e = s.charAt(++i);
                sb.append(switch (e) {
                    case '1' -> ESC;
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    case 'n' -> '\n';
                    default -> e;
                });
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Postfix's {@code printable(s, '?')} for reply text: anything but printable ASCII becomes {@code ?}. */
    static String printableAscii(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }

    /** Postfix's {@code printable(s, '?')} for names with UTF-8 enabled: control characters become {@code ?}. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(Character.isISOControl(c) ? '?' : c);
        }
        return sb.toString();
    }
}
