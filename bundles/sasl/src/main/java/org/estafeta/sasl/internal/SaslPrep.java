package org.estafeta.sasl.internal;

import java.text.Normalizer;

/**
 * SASLprep (RFC 4013) for passwords, as SCRAM (RFC 5802) asks: non-ASCII spaces become U+0020, characters
 * "commonly mapped to nothing" (RFC 3454 table B.1) are removed, the result is NFKC-normalised, and control
 * characters, private-use code points, non-characters and lone surrogates are refused. The bidirectional-text
 * rule and the table of unassigned code points are not applied: Java's normaliser knows a newer Unicode than
 * RFC 3454, and clients differ there anyway. ASCII passwords without control characters pass unchanged.
 *
 * <p>Stateless and thread-safe.
 */
final class SaslPrep {
    private SaslPrep() {
    }

    /** The prepared string; {@link IllegalArgumentException} for a prohibited character (its code point only). */
    static String prepare(String s) {
        StringBuilder mapped = new StringBuilder(s.length());
        for (int i = 0; i < s.length();) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (mappedToNothing(cp)) {
                continue;
            }
            mapped.appendCodePoint(nonAsciiSpace(cp) ? ' ' : cp);
        }
        String normalised = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
        for (int i = 0; i < normalised.length();) {
            int cp = normalised.codePointAt(i);
            i += Character.charCount(cp);
            if (prohibited(cp)) {
                throw new IllegalArgumentException(String.format("prohibited character U+%04X", cp));
            }
        }
        return normalised;
    }

    private static boolean nonAsciiSpace(int cp) {
        return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }

    private static boolean mappedToNothing(int cp) {
        return cp == 0x00AD || cp == 0x034F || cp == 0x1806 || (cp >= 0x180B && cp <= 0x180D) || cp == 0x200C
                || cp == 0x200D || cp == 0x2060 || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF;
    }

    private static boolean prohibited(int cp) {
        int type = Character.getType(cp);
        return type == Character.CONTROL || type == Character.PRIVATE_USE || type == Character.SURROGATE
                || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE
                || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x206A && cp <= 0x206F)
                || (cp >= 0xFFF9 && cp <= 0xFFFD) || (cp >= 0x2FF0 && cp <= 0x2FFB) || cp == 0xE0001
                || (cp >= 0xE0020 && cp <= 0xE007F);
    }
}
