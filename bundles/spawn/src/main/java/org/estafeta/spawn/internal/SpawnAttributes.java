package org.estafeta.spawn.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command attributes at the end of a spawn entry in master.cf, as spawn(8) reads them:
 * {@code user=name[:group]} (required) and {@code argv=command args...} (required, last).
 *
 * @param user the user name of {@code user=}
 * @param group the group name after the colon, or null for the user's own group
 * @param argv the command and its arguments; the first element is what {@code argv=} names
 */
record SpawnAttributes(String user, String group, List<String> argv) {

    SpawnAttributes {
        argv = List.copyOf(argv);
    }

    /**
     * Reads the arguments.
     *
     * @throws IllegalArgumentException with the text Postfix's spawn dies with ({@code missing user= attribute},
     *         {@code unknown attribute name: x} …)
     */
    static SpawnAttributes parse(List<String> arguments) {
        String user = null;
        String group = null;
        List<String> argv = null;
        for (int i = 0; i < arguments.size() && argv == null; i++) {
            String a = arguments.get(i);
            String lower = a.toLowerCase(Locale.ROOT);
            if (lower.startsWith("user=")) {
                String v = a.substring(5);
                int colon = v.indexOf(':');
                user = colon < 0 ? v : v.substring(0, colon);
                group = colon < 0 || colon == v.length() - 1 ? null : v.substring(colon + 1);
            } else if (lower.startsWith("argv=")) {
                argv = new ArrayList<>();
                argv.add(a.substring(5));
                argv.addAll(arguments.subList(i + 1, arguments.size()));
            } else {
                throw new IllegalArgumentException("unknown attribute name: " + a);
            }
        }
        if (user == null) {
            throw new IllegalArgumentException("missing user= attribute");
        }
        if (argv == null || argv.get(0).isEmpty()) {
            throw new IllegalArgumentException("missing argv= attribute");
        }
        return new SpawnAttributes(user, group, argv);
    }
}
