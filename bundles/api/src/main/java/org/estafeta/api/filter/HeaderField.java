package org.estafeta.api.filter;

import java.util.Objects;

/**
 * One header as it travels in the message, for {@link FilterSession#header}: its name and its raw value, everything
 * after the colon (the usual leading space included), with the folds kept as CRLF followed by the white space, and
 * without the final line end. {@code Subject: a\r\n b} is {@code ("Subject", " a\r\n b")}.
 *
 * @since 1.2
 */
public record HeaderField(String name, String value) {
    public HeaderField {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }

    /** The header as it stands in the message, without its final line end: {@code name + ":" + value}. */
    public String text() {
        return name + ":" + value;
    }

    /** The value without its folds and without the leading white space: what a reader of the header sees. */
    public String unfolded() {
        return value.replaceAll("\r?\n(?=[ \t])", "").strip();
    }

    /** Whether this header has the given name, ignoring case as RFC 5322 does. */
    public boolean is(String otherName) {
        return name.equalsIgnoreCase(otherName);
    }
}
