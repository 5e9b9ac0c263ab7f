package org.estafeta.rewrite.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.estafeta.api.table.LookupResult;

/**
 * Postfix's match lists of domains (match_list.c with match_ops.c), in the two flavours trivial-rewrite uses:
 * <ul>
 * <li>{@link #strings string lists} ({@code mydestination}, {@code virtual_alias_domains},
 * {@code virtual_mailbox_domains}): a name matches only itself, a {@code type:table} is asked the name only;</li>
 * <li>{@link #domains domain lists} ({@code relay_domains}): as above, and with "parent style" (the list is named in
 * {@code parent_domain_matches_subdomains}) {@code example.com} also matches its subdomains, else
 * {@code .example.com} does; a table is also asked the parent domains ({@code example.com} or {@code .example.com}
 * by the same rule), fixed-string tables only.</li>
 * </ul>
 * Patterns are tried in order, the first match decides, {@code !pattern} negates, {@code /file/name} reads more
 * patterns from the file. Comparison is case-insensitive. A table that fails makes the whole match fail.
 *
 * <p>The restrictions bundle has the same list logic in its internal package (not exported); this is the rewrite
 * bundle's own small copy, limited to domains.
 */
final class DomainList {
    /** The outcome of a match. */
    enum Result {
        MATCH, NO_MATCH, ERROR
    }

    private final String name;
    private final List<String> patterns;
    private final boolean hostnameMatch;
    private final boolean parentStyle;
    /** The reason of the last {@link Result#ERROR}, for the log. */
    String error = "";

    private DomainList(String name, String value, boolean hostnameMatch, boolean parentStyle) {
        this.name = name;
        this.patterns = expandFiles(split(value));
        this.hostnameMatch = hostnameMatch;
        this.parentStyle = parentStyle;
    }

    /** A string_list: exact names and table lookups of the exact name. */
    static DomainList strings(String name, String value) {
        return new DomainList(name, value, false, false);
    }

    /** A domain_list: names, {@code .domain}, parent domains per {@code parentStyle}, table lookups of parents. */
    static DomainList domains(String name, String value, boolean parentStyle) {
        return new DomainList(name, value, true, parentStyle);
    }

    boolean isEmpty() {
        return patterns.isEmpty();
    }

    /** Matches {@code domain} (a trailing dot is the caller's business). */
    Result match(String domain, Tables tables) {
        String d = domain.toLowerCase(Locale.ROOT);
        for (String p : patterns) {
            boolean positive = true;
            while (p.startsWith("!")) {
                positive = !positive;
                p = p.substring(1);
            }
            Result r = p.startsWith("\0") ? fail(p.substring(1)) : matchOne(d, p, tables);
            if (r == Result.ERROR) {
                return r;
            }
            if (r == Result.MATCH) {
                return positive ? Result.MATCH : Result.NO_MATCH;
            }
        }
        return Result.NO_MATCH;
    }

    private Result matchOne(String d, String pattern, Tables tables) {
        if (isTable(pattern)) {
            for (String entry = d; ; ) {
                LookupResult r = tables.lookup(pattern, entry, !entry.equals(d));
                if (r instanceof LookupResult.Found) {
                    return Result.MATCH;
                }
                if (r instanceof LookupResult.TemporaryFailure f) {
                    return fail(pattern + ": table lookup problem: " + f.reason());
                }
                int next = entry.indexOf('.', 1);
                if (!hostnameMatch || next < 0) {
                    return Result.NO_MATCH;
                }
                entry = parentStyle ? entry.substring(next + 1) : entry.substring(next);
            }
        }
        String p = pattern.toLowerCase(Locale.ROOT);
        if (d.equals(p)) {
            return Result.MATCH;
        }
        if (hostnameMatch) {
            // match_hostname(): with parent style "example.com" matches "x.example.com"; otherwise ".example.com" does
            String suffix = parentStyle ? "." + p : p;
            if ((parentStyle || p.startsWith(".")) && d.length() > suffix.length() && d.endsWith(suffix)) {
                return Result.MATCH;
            }
        }
        return Result.NO_MATCH;
    }

    private Result fail(String why) {
        error = name + ": " + why;
        return Result.ERROR;
    }

    /** Whether a list element is a {@code type:table} reference (Postfix's MATCH_DICTIONARY: a ':', no '[' first). */
    static boolean isTable(String p) {
        return !p.startsWith("[") && p.indexOf(':') >= 0;
    }

    private static List<String> expandFiles(List<String> words) {
        List<String> out = new ArrayList<>();
        for (String w : words) {
            String bare = w.replaceFirst("^!+", "");
            if (!bare.startsWith("/")) {
                out.add(w);
                continue;
            }
            String negation = w.substring(0, w.length() - bare.length());
            try {
                for (String line : Files.readAllLines(Path.of(bare), StandardCharsets.UTF_8)) {
                    String l = line.strip();
                    if (!l.isEmpty() && !l.startsWith("#")) {
                        split(l).forEach(x -> out.add(negation + x));
                    }
                }
            } catch (IOException e) {
                // Postfix puts a surrogate table in its place whose lookups fail: so does this
                out.add(negation + "\0open file " + bare + ": " + e.getMessage());
            }
        }
        return out;
    }

    /**
     * Splits a list value as Postfix's mystrtokq(): on white space and commas, with {@code { }} keeping an element
     * together ({@code inline:{ a=b, c=d }}).
     */
    static List<String> split(String value) {
        return org.estafeta.config.ConfigValues.list(value);
    }
}
