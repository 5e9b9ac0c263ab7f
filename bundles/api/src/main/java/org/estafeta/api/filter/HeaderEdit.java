package org.estafeta.api.filter;

import java.util.Objects;
import java.util.Optional;

/**
 * A change to one header of the message as the client sent it: the {@code index}-th header called {@code name}
 * (case-insensitive, counted from 1; the gateway's own Received header is not counted) gets {@code value}, or is
 * deleted when {@code value} is empty. Changing a header the message does not have adds it, as Postfix does with a
 * milter's change request; deleting one it does not have does nothing.
 *
 * @param name the header name, without the colon
 * @param index which header of that name, from 1
 * @param value the new value (the text after {@code Name:}; a line end followed by white space is a fold), or empty
 *        to delete the header
 * @since 1.1
 */
public record HeaderEdit(String name, int index, Optional<String> value) {
    public HeaderEdit {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == ':' || c > '~')) {
            throw new IllegalArgumentException("bad header name: " + name);
        }
        if (index < 1) {
            throw new IllegalArgumentException("header index counts from 1: " + index);
        }
    }
}
