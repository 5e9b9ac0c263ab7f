package org.estafeta.restrictions.internal;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.estafeta.config.ConfigSnapshot;

/** The parameters the restrictions read, from one configuration snapshot. */
final class Params {
    private final ConfigSnapshot snapshot;

    Params(ConfigSnapshot snapshot) {
        this.snapshot = snapshot;
    }

    ConfigSnapshot snapshot() {
        return snapshot;
    }

    /** A text parameter; empty when the snapshot has no value (a list parameter Postfix defaults to empty). */
    String text(String name) {
        return snapshot.get(name).orElse("");
    }

    Optional<String> optional(String name) {
        return snapshot.get(name);
    }

    /** An integer parameter with a built-in default (the *_reject_code parameters). */
    int code(String name) {
        return (int) snapshot.integer(name);
    }

    boolean bool(String name) {
        return snapshot.bool(name);
    }

    /** A yes/no parameter Estafeta reads but does not register (used only when main.cf sets it). */
    boolean bool(String name, boolean postfixDefault) {
        return snapshot.get(name).map(v -> v.strip().equalsIgnoreCase("yes")).orElse(postfixDefault);
    }

    /** Whether parent_domain_matches_subdomains lists {@code feature} (Postfix's match_parent_style). */
    boolean parentStyle(String feature) {
        return HostNames.splitList(text("parent_domain_matches_subdomains")).stream()
                .anyMatch(f -> f.equalsIgnoreCase(feature));
    }

    List<String> list(String name) {
        return HostNames.splitList(text(name));
    }

    /** compatibility_level compared with {@code level} as Postfix's compat_level_from_string does (3.6 &lt; 3.10). */
    boolean compatibilityBelow(String level) {
        return compareLevels(text("compatibility_level").strip(), level) < 0;
    }

    static int compareLevels(String a, String b) {
        int[] x = parseLevel(a);
        int[] y = parseLevel(b);
        return Arrays.compare(x, y);
    }

    private static int[] parseLevel(String s) {
        int[] out = new int[3];
        String[] parts = s.isEmpty() ? new String[] {"0"} : s.split("\\.");
        for (int i = 0; i < Math.min(3, parts.length); i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                out[i] = 0;
            }
        }
        return out;
    }
}
