package org.estafeta.sasl.dovecot;

import java.util.List;
import java.util.Optional;

/**
 * One reply of Dovecot's auth server to a request: {@code OK}, {@code CONT} or {@code FAIL}, the request id, and
 * what followed the id ({@link #args}, still TAB-escaped: a {@code CONT}'s one argument is the base64 challenge,
 * the others are {@code name=value} or bare flags such as {@code temp}).
 */
record AuthReply(String command, long id, List<String> args) {

    /** The unescaped value of the first {@code name=} argument. */
    Optional<String> field(String name) {
        String prefix = name + "=";
        for (String a : args) {
            if (a.startsWith(prefix)) {
                return Optional.of(TabEscape.unescape(a.substring(prefix.length())));
            }
        }
        return Optional.empty();
    }

    /** Whether the bare flag {@code name} (no value) is present. */
    boolean flag(String name) {
        return args.contains(name);
    }

    /** Parses {@code CMD\tID[\tARG...]}; empty for other lines and for an id that is not a number. */
    static Optional<AuthReply> parse(String line) {
        String[] parts = line.split("\t", -1);
        if (parts.length < 2 || !(parts[0].equals("OK") || parts[0].equals("CONT") || parts[0].equals("FAIL"))) {
            return Optional.empty();
        }
        long id;
        try {
            id = Long.parseUnsignedLong(parts[1]);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.of(new AuthReply(parts[0], id, List.of(parts).subList(2, parts.length)));
    }
}
