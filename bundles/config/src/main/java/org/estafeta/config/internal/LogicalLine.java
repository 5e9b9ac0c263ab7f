package org.estafeta.config.internal;

import java.util.Arrays;

/**
 * One logical line of a Postfix configuration file: a first physical line plus the lines that continue it
 * (those that start with white space), joined without their newlines, exactly as Postfix's readllines() does.
 *
 * @param text the joined text
 * @param firstLine the number of the physical line it starts on
 * @param lineStarts for each physical line that contributed text, the offset in {@code text} where it starts
 * @param lineNumbers the physical line number for each entry of {@code lineStarts}
 */
record LogicalLine(String text, int firstLine, int[] lineStarts, int[] lineNumbers) {

    /** The physical line number that holds the character at {@code offset}. */
    int lineAt(int offset) {
        int i = Arrays.binarySearch(lineStarts, offset);
        if (i < 0) {
            i = -i - 2;
        } else {
            // several entries may share an offset when a physical line contributed nothing; take the last
            while (i + 1 < lineStarts.length && lineStarts[i + 1] == offset) {
                i++;
            }
        }
        return i < 0 ? firstLine : lineNumbers[i];
    }
}
