package org.estafeta.restrictions.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.table.LookupResult;

/**
 * Postfix's match lists (match_list.c): {@code mynetworks} (names and addresses), {@code relay_domains},
 * {@code mydestination} and other domain lists. Patterns in order, the first that matches decides; {@code !pattern}
 * negates; {@code type:table} looks the name (and its parent domains) or the address up; {@code /file/name} reads
 * more patterns from the file; {@code net/bits} is a CIDR block (IPv6 optionally in brackets); a domain pattern
 * matches itself and, with "parent" style (the list is in {@code parent_domain_matches_subdomains}), its subdomains,
 * while {@code .domain} always matches subdomains.
 */
final class MatchList {
    enum Result {
        MATCH, NO_MATCH, ERROR
    }

    private final List<String> patterns;
    private final boolean parentStyle;
    private final Tables tables;

    MatchList(String value, boolean parentStyle, Tables tables) {
        this.patterns = expandFiles(HostNames.splitList(value));
        this.parentStyle = parentStyle;
        this.tables = tables;
    }

    private static List<String> expandFiles(List<String> words) {
        List<String> out = new ArrayList<>();
        for (String w : words) {
            String bare = w.startsWith("!") ? w.substring(1) : w;
            if (bare.startsWith("/")) {
                try {
                    for (String line : Files.readAllLines(Path.of(bare), StandardCharsets.UTF_8)) {
                        String l = line.strip();
                        if (!l.isEmpty() && !l.startsWith("#")) {
                            out.addAll(HostNames.splitList(l));
                        }
                    }
                } catch (IOException e) {
                    out.add("\0error:" + bare); // a list that cannot be read is a lookup error, not "no match"
                }
            } else {
                out.add(w);
            }
        }
        return out;
    }

    /** Domain list match (domain_list_match / string_list_match for host names). */
    Result matchDomain(String domain) {
        return match(HostNames.lower(HostNames.truncateDot(domain)), null);
    }

    /** Name/address list match (namadr_list_match), as for {@code mynetworks}. */
    Result matchNameAddr(String name, String addr) {
        return match(HostNames.lower(name), addr);
    }

    private Result match(String name, String addr) {
        for (String p : patterns) {
            boolean negate = false;
            while (p.startsWith("!")) {
                negate = !negate;
                p = p.substring(1);
            }
            if (p.startsWith("\0error:")) {
                return Result.ERROR;
            }
            Result r = matchHostname(name, p);
            if (r == Result.NO_MATCH && addr != null) {
                r = matchHostaddr(addr, p);
            }
            if (r == Result.ERROR) {
                return r;
            }
            if (r == Result.MATCH) {
                return negate ? Result.NO_MATCH : Result.MATCH;
            }
        }
        return Result.NO_MATCH;
    }

    static boolean isTable(String p) {
        int colon = p.indexOf(':');
        return colon > 0 && Character.isLetter(p.charAt(0)) && p.substring(0, colon).chars()
                .allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '+');
    }

    private Result matchHostname(String name, String pattern) {
        if (isTable(pattern)) {
            if (HostNames.parseAddress(name) != null) {
                return Result.NO_MATCH;
            }
            Result r = found(tables.lookup(pattern, name, false));
            for (int dot = name.indexOf('.'); r == Result.NO_MATCH && dot > 0; dot = name.indexOf('.', dot + 1)) {
                r = found(tables.lookup(pattern, parentStyle ? name.substring(dot + 1) : name.substring(dot), true));
            }
            return r;
        }
        if (pattern.indexOf('/') >= 0 || pattern.startsWith("[")) {
            return Result.NO_MATCH;
        }
        String p = HostNames.lower(pattern);
        if (name.equals(p)) {
            return Result.MATCH;
        }
        if (p.startsWith(".")) {
            return name.endsWith(p) && name.length() > p.length() ? Result.MATCH : Result.NO_MATCH;
        }
        if (parentStyle && name.endsWith("." + p)) {
            return Result.MATCH;
        }
        return Result.NO_MATCH;
    }

    private Result matchHostaddr(String addr, String pattern) {
        if (isTable(pattern)) {
            return found(tables.lookup(pattern, addr, false));
        }
        byte[] a = HostNames.parseAddress(addr);
        if (a == null) {
            return Result.NO_MATCH;
        }
        int slash = pattern.indexOf('/');
        if (slash < 0) {
            String p = unbracket(pattern);
            byte[] b = HostNames.parseAddress(p);
            return b != null && java.util.Arrays.equals(a, b) ? Result.MATCH : Result.NO_MATCH;
        }
        byte[] net = HostNames.parseAddress(unbracket(pattern.substring(0, slash)));
        String bitsText = pattern.substring(slash + 1);
        if (net == null || bitsText.isEmpty() || !bitsText.chars().allMatch(Character::isDigit)
                || bitsText.length() > 3) {
            return Result.NO_MATCH;
        }
        int bits = Integer.parseInt(bitsText);
        if (net.length != a.length || bits > net.length * 8) {
            return Result.NO_MATCH;
        }
        for (int i = 0; i < net.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            int mask = (0xff << (8 - keep)) & 0xff;
            if ((a[i] & mask) != (net[i] & mask)) {
                return Result.NO_MATCH;
            }
        }
        return Result.MATCH;
    }

    private static String unbracket(String p) {
        return p.startsWith("[") && p.endsWith("]") ? p.substring(1, p.length() - 1) : p;
    }

    private static Result found(LookupResult r) {
        if (r instanceof LookupResult.Found) {
            return Result.MATCH;
        }
        return r instanceof LookupResult.TemporaryFailure ? Result.ERROR : Result.NO_MATCH;
    }
}
