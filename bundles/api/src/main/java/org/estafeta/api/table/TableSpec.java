package org.estafeta.api.table;

import java.util.Objects;

/**
 * A table reference as written in main.cf: {@code type:name}, for example {@code hash:/etc/postfix/transport}
 * ({@code type} is {@code hash}, {@code name} is {@code /etc/postfix/transport}).
 */
public record TableSpec(String type, String name) {
    public TableSpec {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(name, "name");
        if (type.isEmpty()) {
            throw new IllegalArgumentException("table type is empty in " + type + ":" + name);
        }
    }

    /** Parses {@code type:name}; throws {@link IllegalArgumentException} naming the text when it has no type. */
    public static TableSpec parse(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("not a table reference (expected type:name): " + text);
        }
        return new TableSpec(text.substring(0, colon), text.substring(colon + 1));
    }

    @Override
    public String toString() {
        return type + ":" + name;
    }
}
