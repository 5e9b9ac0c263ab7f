package org.estafeta.milter;

/** SMFIR_REPLYCODE text checks, as Postfix's milter8 makes them. */
final class ReplyText {
    private ReplyText() {
    }

    /**
     * Whether {@code raw[0..len)} is a well-formed 4xx/5xx SMTP reply: every line {@code ddd-text} but the last
     * {@code ddd text}, lines separated by CRLF, an enhanced status code (if any) of the same class, no NUL.
     */
    static boolean valid(byte[] raw, int len) {
        for (int i = 0; i < len; i++) {
            if (raw[i] == 0) {
                return false;
            }
        }
        int cp = 0;
        while (cp < len) {
            int end = cp;
            while (end < len && raw[end] != '\r' && raw[end] != '\n') {
                end++;
            }
            int lineLen = end - cp;
            boolean last = end == len;
            if (lineLen < 4 || raw[cp] != '4' && raw[cp] != '5' || !digit(raw[cp + 1]) || !digit(raw[cp + 2])
                    || raw[cp + 3] != (last ? ' ' : '-')
                    || lineLen > 4 && digit(raw[cp + 4]) && raw[cp + 4] != raw[cp]) {
                return false;
            }
            if (last) {
                return true;
            }
            if (end > len - 2 || raw[end] != '\r' || raw[end + 1] != '\n') {
                return false;
            }
            cp = end + 2;
        }
        return false;
    }

    private static boolean digit(byte b) {
        return b >= '0' && b <= '9';
    }

    /** Sendmail uses replies as format strings: {@code %%} becomes {@code %}, a single {@code %} is dropped. */
    static String unpercent(String text) {
        if (text.indexOf('%') < 0) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '%') {
                i++;
                if (i < text.length()) {
                    b.append(text.charAt(i));
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
