package org.estafeta.table.ldap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code domain} parameter: Postfix's string_list of domain names, {@code !name} exclusions and
 * {@code /file/name} entries (the file holds more names, separated by white space or commas, with {@code #}
 * comments). A domain matches when the first pattern that matches it, compared case-insensitively as a whole
 * string (no parent-domain matching), is not negated. {@code type:table} entries are refused (a table plugin
 * cannot open other tables). Immutable and thread-safe.
 */
final class DomainList {
    private record Pattern(String text, boolean negated) {
    }

    private final List<Pattern> patterns;

    private DomainList(List<Pattern> patterns) {
        this.patterns = patterns;
    }

    /** The list, or null when {@code text} is empty (every domain is searched). */
    static DomainList parse(String path, String text) {
        List<Pattern> patterns = new ArrayList<>();
        add(path, text, patterns);
        return patterns.isEmpty() ? null : new DomainList(List.copyOf(patterns));
    }

    private static void add(String path, String text, List<Pattern> out) {
        for (String word : text.split("[\\s,]+")) {
            if (word.isEmpty()) {
                continue;
            }
            boolean negated = false;
            String p = word;
            while (p.startsWith("!")) {
                negated = !negated;
                p = p.substring(1);
            }
            if (p.startsWith("/")) {
                if (negated) {
                    throw new IllegalArgumentException(path + ": domain: a file name cannot be negated: " + word);
                }
                String contents;
                try {
                    contents = Files.readString(Path.of(p), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new IllegalArgumentException(path + ": domain: open " + p + ": " + e.getMessage());
                }
                StringBuilder kept = new StringBuilder();
                for (String line : contents.split("\n")) {
                    int hash = line.indexOf('#');
                    kept.append(hash >= 0 ? line.substring(0, hash) : line).append('\n');
                }
                add(path, kept.toString(), out);
            } else if (p.indexOf(':') > 0) {
                throw new IllegalArgumentException(path + ": domain: table lookups (" + p
                        + ") are not supported; list the domains or name a file");
            } else if (!p.isEmpty()) {
                out.add(new Pattern(p.toLowerCase(Locale.ROOT), negated));
            }
        }
    }

    /** Whether {@code domain} is in the list. */
    boolean matches(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        for (Pattern p : patterns) {
            if (p.text().equals(d)) {
                return !p.negated();
            }
        }
        return false;
    }
}
