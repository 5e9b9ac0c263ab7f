package org.estafeta.cleanup.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.estafeta.api.message.Header;
import org.junit.jupiter.api.Test;

/** How filters' added header values become header lines: their folds kept, nothing else able to break a line. */
class FilterHeaderLinesTest {
    private static String lines(Header... headers) {
        return new String(FilterHeaderLines.lines(List.of(headers)), StandardCharsets.UTF_8);
    }

    @Test
    void aFoldTheFilterMadeIsKept() {
        assertEquals("X-Spamd-Result: default: False [0.00 / 15.00];\r\n\tMIME_GOOD(-0.10)[text/plain];\r\n"
                + "\tRCPT_COUNT_ONE(0.00)[1]\r\n",
                lines(new Header("X-Spamd-Result",
                        "default: False [0.00 / 15.00];\n\tMIME_GOOD(-0.10)[text/plain];\r\n\tRCPT_COUNT_ONE(0.00)[1]")));
    }

    @Test
    void aBareLineEndBecomesASpaceSoNoLineCanBeInjected() {
        assertEquals("X-A: one two\r\n", lines(new Header("X-A", "one\ntwo")));
        assertEquals("X-A: one    Subject: forged\r\n", lines(new Header("X-A", "one\r\n\r\nSubject: forged")));
        assertEquals("X-A: a b\r\n", lines(new Header("X-A", "a\0b")));
    }

    @Test
    void longValuesAreFoldedAtWhiteSpace() {
        String word = "abcdefghij";
        String value = String.join(" ", java.util.Collections.nCopies(10, word));
        String out = lines(new Header("X-Long", value));
        for (String line : out.split("\r\n")) {
            assertEquals(true, line.length() <= 78, line);
        }
        assertEquals("X-Long: " + value, out.replace("\r\n ", " ").strip());
    }
}
