package org.estafeta.transport.smtp.internal;

import java.util.List;

/**
 * One server reply as Postfix's smtp_chat_resp() reads it: the code of the last line (0 when a line was not
 * {@code ddd[ -]}), the enhanced status of the last line when it is valid and of the same class as the code
 * (else {@code X.0.0}; {@code 5.5.0} for a malformed reply), and the lines joined with spaces, non-printable
 * characters replaced by {@code ?}; {@code lines} keeps the raw lines (EHLO keywords are read from them).
 */
record Response(int code, String dsn, String text, List<String> lines) {

    /** Parses the lines of one reply (without line ends). */
    static Response of(List<String> lines) {
        StringBuilder text = new StringBuilder();
        for (String l : lines) {
            if (text.length() > 0) {
                text.append(' ');
            }
            text.append(printable(l));
        }
        String last = lines.get(lines.size() - 1);
        int code = threeDigits(last) ? Integer.parseInt(last.substring(0, 3)) : 0;
        String dsn = "5.5.0";
        if (code != 0 && "245".indexOf(last.charAt(0)) >= 0) {
            int i = 3;
            while (i < last.length() && last.charAt(i) == ' ') {
                i++;
            }
            String valid = validDsn(last, i);
            dsn = valid != null && valid.charAt(0) == last.charAt(0) ? valid : last.charAt(0) + ".0.0";
        }
        return new Response(code, dsn, text.toString(), List.copyOf(lines));
    }

    /** Whether the line starts with three digits followed by space, hyphen or nothing. */
    static boolean threeDigits(String line) {
        if (line.length() < 3 || !Character.isDigit(line.charAt(0)) || !Character.isDigit(line.charAt(1))
                || !Character.isDigit(line.charAt(2))) {
            return false;
        }
        return line.length() == 3 || line.charAt(3) == ' ' || line.charAt(3) == '-';
    }

    /** Whether more lines of the same reply follow ({@code ddd-}). */
    static boolean continues(String line) {
        return threeDigits(line) && line.length() > 3 && line.charAt(3) == '-';
    }

    /** Postfix's dsn_valid(): {@code [245].d{1,3}.d{1,3}} followed by white space or the end. */
    private static String validDsn(String s, int from) {
        int i = from;
        if (i >= s.length() || "245".indexOf(s.charAt(i)) < 0) {
            return null;
        }
        i++;
        for (int part = 0; part < 2; part++) {
            if (i >= s.length() || s.charAt(i) != '.') {
                return null;
            }
            i++;
            int start = i;
            while (i < s.length() && Character.isDigit(s.charAt(i)) && i - start < 4) {
                i++;
            }
            if (i == start || i - start > 3) {
                return null;
            }
        }
        if (i < s.length() && s.charAt(i) != ' ' && s.charAt(i) != '\t') {
            return null;
        }
        return s.substring(from, i);
    }

    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f || c == '\t' ? c : '?');
        }
        return sb.toString();
    }

    boolean isPositive() {
        return code / 100 == 2;
    }

    /** The same reply with another enhanced status (a skipped 5xx greeting becomes 4.x.x). */
    Response withDsn(String newDsn) {
        return new Response(code, newDsn, text, lines);
    }
}
