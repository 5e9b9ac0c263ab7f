package org.estafeta.cleanup.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.estafeta.api.message.Header;

/**
 * The header lines filters add, as they go into the message (folded, CR and LF made harmless). The chain that runs
 * the filters is {@link SessionChain}.
 */
final class FilterHeaderLines {
    private FilterHeaderLines() {
    }

    /**
     * The header lines as they go into the message: {@code Name: value}, folded before 78 columns where the value
     * has white space, CRLF line ends. A CR or LF in a value (a filter's mistake) becomes a space, so that a filter
     * can never end the header section or inject lines.
     */
    static byte[] lines(List<Header> headers) {
        StringBuilder sb = new StringBuilder();
        for (Header h : headers) {
            // a fold the filter made (a line end followed by a space or tab) is kept as CRLF + that white space;
            // any other CR or LF becomes a space, so a value can never end the header section or inject lines
            String value = h.value().replace('\0', ' ').replaceAll("\r?\n(?=[ \t])", "\0").replace('\r', ' ')
                    .replace('\n', ' ');
            String[] physical = (h.name() + ": " + value).split("\0");
            for (int i = 0; i < physical.length; i++) {
                sb.append(i == 0 ? fold(physical[i]) : physical[i]).append("\r\n");
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Breaks a header line before white space so that lines stay within 78 characters where possible. */
    static String fold(String line) {
        StringBuilder out = new StringBuilder(line.length() + 16);
        int start = 0;
        int first = line.indexOf(": ") + 2; // never fold between the name and the value's first word
        while (line.length() - start > 78) {
            int cut = -1;
            for (int i = start + 78; i > Math.max(start, first); i--) {
                char c = line.charAt(i);
                if (c == ' ' || c == '\t') {
                    cut = i;
                    break;
                }
            }
            if (cut < 0) {
                break; // no white space to fold at: the line stays long
            }
            out.append(line, start, cut).append("\r\n");
            start = cut; // the white space stays, as the continuation line's indentation
        }
        return out.append(line, start, line.length()).toString();
    }
}
