package org.estafeta.api.message;

import java.util.Objects;

/**
 * One message header as received: its name, and its value unfolded (continuation line breaks removed,
 * other white space kept).
 */
public record Header(String name, String value) {
    public Header {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == ':' || c > '~')) {
            throw new IllegalArgumentException("not a header field name: " + name);
        }
    }

    /** Whether this header has the given name, ignoring case as RFC 5322 does. */
    public boolean is(String otherName) {
        return name.equalsIgnoreCase(otherName);
    }
}
