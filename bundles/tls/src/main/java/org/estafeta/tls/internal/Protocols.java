package org.estafeta.tls.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Postfix's TLS protocol lists ({@code smtpd_tls_protocols}, {@code smtpd_tls_mandatory_protocols}): names separated
 * by white space, commas or colons; {@code !NAME} excludes one, {@code >=NAME} and {@code <=NAME} bound the range,
 * and plain names, if any, are the only ones included (Postfix's tls_protocol_mask()). SSLv2 and SSLv3 are known
 * names but never enabled.
 */
public final class Protocols {
    /** Postfix's names, oldest first; the TLS ones are also the JSSE names. */
    static final List<String> KNOWN = List.of("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");

    private Protocols() {
    }

    /**
     * The JSSE protocols that {@code value} allows, oldest first, limited to {@code supported}.
     *
     * @throws IllegalArgumentException naming {@code parameter} for an unknown name, or when nothing is left
     */
    public static List<String> parse(String parameter, String value, Set<String> supported) {
        int min = 0;
        int max = KNOWN.size() - 1;
        Set<Integer> excluded = new LinkedHashSet<>();
        Set<Integer> included = new LinkedHashSet<>();
        for (String token : value.trim().split("[\\s,:]+")) {
            if (token.isEmpty()) {
                continue;
            }
            if (token.startsWith(">=")) {
                min = Math.max(min, index(parameter, token.substring(2)));
            } else if (token.startsWith("<=")) {
                max = Math.min(max, index(parameter, token.substring(2)));
            } else if (token.startsWith("!")) {
                excluded.add(index(parameter, token.substring(1)));
            } else {
                included.add(index(parameter, token));
            }
        }
        List<String> result = new ArrayList<>();
        for (int i = Math.max(min, 2); i <= max; i++) {
            if (excluded.contains(i) || (!included.isEmpty() && !included.contains(i))) {
                continue;
            }
            if (supported.contains(KNOWN.get(i))) {
                result.add(KNOWN.get(i));
            }
        }
        if (result.isEmpty()) {
            throw new IllegalArgumentException(parameter + ": no supported TLS protocol is left in \"" + value.trim() + "\"");
        }
        return result;
    }

    private static int index(String parameter, String name) {
        for (int i = 0; i < KNOWN.size(); i++) {
            if (KNOWN.get(i).equalsIgnoreCase(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException(parameter + ": Invalid TLS protocol name: \"" + name + "\"");
    }
}
