package org.estafeta.table.cidr;

import org.estafeta.table.support.LogicalLines;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The parsed rules of one cidr_table(5) file, in file order, and the lookup over them (Postfix's
 * {@code dict_cidr.c} and {@code cidr_match.c}).
 *
 * <p>A rule is {@code [!]network[/prefix] result}; the network may be written in brackets ({@code [::1]/128} or
 * {@code [::1/128]}). {@code if [!]network[/prefix]} ... {@code endif} encloses rules that are tried only when the
 * address matches the {@code if} (keywords in any case, blocks nest). A malformed rule is skipped with Postfix's
 * warning ({@code cidr map FILE, line N: WHY: skipping this rule}), as Postfix skips it, so both answer the same.
 */
final class CidrRules {
    private enum Op { MATCH, IF, ENDIF }

    /** One compiled line. For IF, {@code blockEnd} is the index of the matching ENDIF, or -1 when it has none. */
    private static final class Rule {
        final Op op;
        final boolean v6;
        final byte[] net;
        final byte[] mask;
        final boolean match;
        final String value;
        final int line;
        int blockEnd = -1;
        /** The network and mask as two 64-bit words (IPv4: the low word only), so a match is two ANDs. */
        final long netHi;
        final long netLo;
        final long maskHi;
        final long maskLo;

        Rule(Op op, boolean v6, byte[] net, byte[] mask, boolean match, String value, int line) {
            this.op = op;
            this.v6 = v6;
            this.net = net;
            this.mask = mask;
            this.match = match;
            this.value = value;
            this.line = line;
            this.netHi = net == null ? 0 : high(net);
            this.netLo = net == null ? 0 : low(net);
            this.maskHi = mask == null ? 0 : high(mask);
            this.maskLo = mask == null ? 0 : low(mask);
        }

        /** cidr_match_entry: {@code match} when the address is in the network, else {@code !match}. */
        boolean matches(long hi, long lo) {
            return ((hi & maskHi) == netHi && (lo & maskLo) == netLo) == match;
        }
    }

    /** The first 8 bytes of a 16-byte address as a long; 0 for a 4-byte one. */
    static long high(byte[] a) {
        return a.length == 16 ? word(a, 0) : 0;
    }

    /** The last 8 bytes of a 16-byte address, or the 4 bytes of an IPv4 one, as a long. */
    static long low(byte[] a) {
        if (a.length == 16) {
            return word(a, 8);
        }
        long v = 0;
        for (byte b : a) {
            v = (v << 8) | (b & 0xff);
        }
        return v;
    }

    private static long word(byte[] a, int from) {
        long v = 0;
        for (int k = from; k < from + 8; k++) {
            v = (v << 8) | (a[k] & 0xff);
        }
        return v;
    }

    /** Why a pattern or line is refused; the message is Postfix's text. */
    private static final class Bad extends Exception {
        private static final long serialVersionUID = 1L;

        Bad(String why) {
            super(why, null, false, false);
        }
    }

    private final Rule[] rules;

    private CidrRules(List<Rule> rules) {
        this.rules = rules.toArray(Rule[]::new);
    }

    int size() {
        return rules.length;
    }

    /** Compiles {@code text} (the contents of {@code path}); {@code warn} receives each of Postfix's warnings. */
    static CidrRules parse(String path, String text, Consumer<String> warn) {
        List<Rule> rules = new ArrayList<>();
        List<Integer> open = new ArrayList<>();
        for (LogicalLines.Line line : LogicalLines.split(path, text, warn)) {
            Rule rule;
            try {
                rule = parseRule(line.text(), line.number(), open.size());
            } catch (Bad e) {
                warn.accept("cidr map " + path + ", line " + line.number() + ": " + e.getMessage()
                        + ": skipping this rule");
                continue;
            }
            if (rule.op == Op.IF) {
                open.add(rules.size());
            } else if (rule.op == Op.ENDIF) {
                rules.get(open.remove(open.size() - 1)).blockEnd = rules.size();
            }
            rules.add(rule);
        }
        for (int k = open.size() - 1; k >= 0; k--) {
            warn.accept("cidr map " + path + ", line " + rules.get(open.get(k)).line + ": IF has no matching ENDIF");
        }
        return new CidrRules(List.copyOf(rules));
    }

    /** The result of the first rule that matches {@code key}, or {@code null} (also for a key that is no address). */
    String lookup(String key) {
        boolean v6 = InetText.isV6(key);
        byte[] addr = v6 ? InetText.parse6(key) : InetText.parse4(key);
        if (addr == null) {
            return null;
        }
        long hi = high(addr);
        long lo = low(addr);
        Rule[] rs = rules;
        for (int k = 0; k < rs.length; k++) {
            Rule r = rs[k];
            switch (r.op) {
                case MATCH -> {
                    if (r.v6 == v6 && r.matches(hi, lo)) {
                        return r.value;
                    }
                }
                case IF -> {
                    if (r.v6 == v6 && r.matches(hi, lo)) {
                        continue;
                    }
                    if (r.blockEnd < 0) {
                        return null; // an IF without ENDIF skips the rest of the table
                    }
                    k = r.blockEnd;
                }
                case ENDIF -> {
                }
            }
        }
        return null;
    }

    private static boolean startsWithKeyword(String p, String word) {
        return p.regionMatches(true, 0, word, 0, word.length())
                && (p.length() == word.length() || !isAsciiAlnum(p.charAt(word.length())));
    }

    private static boolean isAsciiAlnum(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static Rule parseRule(String p, int lineno, int nesting) throws Bad {
        boolean match = true;
        int i;
        if (startsWithKeyword(p, "IF")) {
            for (i = 2; i < p.length(); i++) {
                char c = p.charAt(i);
                if (c == '!') {
                    match = !match;
                } else if (!LogicalLines.isSpace(c)) {
                    break;
                }
            }
            if (i >= p.length()) {
                throw new Bad("no address pattern");
            }
            Rule r = pattern(LogicalLines.trimTrailing(p.substring(i)), match, "", lineno);
            return new Rule(Op.IF, r.v6, r.net, r.mask, r.match, "", lineno);
        }
        if (startsWithKeyword(p, "ENDIF")) {
            if (!LogicalLines.trimLeading(p.substring(5)).isEmpty()) {
                throw new Bad("garbage after ENDIF");
            }
            if (nesting == 0) {
                throw new Bad("ENDIF without IF");
            }
            return new Rule(Op.ENDIF, false, null, null, true, "", lineno);
        }
        for (i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '!') {
                match = !match;
            } else if (!LogicalLines.isSpace(c)) {
                break;
            }
        }
        int keyEnd = i;
        while (keyEnd < p.length() && !LogicalLines.isSpace(p.charAt(keyEnd))) {
            keyEnd++;
        }
        String pattern = p.substring(i, keyEnd);
        String value = LogicalLines.trimTrailing(LogicalLines.trimLeading(p.substring(Math.min(p.length(), keyEnd + 1))));
        if (pattern.isEmpty()) {
            throw new Bad("no address pattern");
        }
        Rule r = pattern(pattern, match, value, lineno);
        if (value.isEmpty()) {
            throw new Bad("no lookup result");
        }
        return r;
    }

    /** cidr_match_parse: {@code [addr]/len}, {@code [addr/len]}, {@code addr/len} or a bare address. */
    private static Rule pattern(String pattern, boolean match, String value, int lineno) throws Bad {
        String addrText;
        String maskSearch;
        if (pattern.startsWith("[")) {
            String inner = pattern.substring(1);
            int close = inner.indexOf(']');
            if (close < 0) {
                throw new Bad("missing ']' character after \"[" + inner + "\"");
            }
            String after = inner.substring(close + 1);
            addrText = inner.substring(0, close);
            if (after.startsWith("/")) {
                maskSearch = after;
            } else if (!after.isEmpty()) {
                throw new Bad("garbage after \"[" + addrText + "]\"");
            } else {
                maskSearch = addrText;
            }
        } else {
            addrText = pattern;
            maskSearch = pattern;
        }
        int slash = maskSearch.indexOf('/');
        if (slash >= 0) {
            String mask = maskSearch.substring(slash + 1);
            if (maskSearch == addrText) {
                addrText = addrText.substring(0, slash);
            }
            boolean v6 = InetText.isV6(addrText);
            int bits = v6 ? 128 : 32;
            byte[] net;
            String parseError = null;
            int shift = -1;
            if (!allDigits(mask)) {
                parseError = "bad mask value";
            } else if ((shift = mask.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(mask)) > bits) {
                parseError = "bad mask length";
            }
            net = parseError == null ? InetText.parse(addrText) : null;
            if (parseError == null && net == null) {
                parseError = "bad network value";
            }
            if (parseError != null) {
                throw new Bad(parseError + " in \"" + addrText + "/" + mask + "\"");
            }
            byte[] maskBytes = maskBytes(net.length, shift);
            for (int k = 0; k < net.length; k++) {
                if ((net[k] & ~maskBytes[k]) != 0) {
                    byte[] fixed = net.clone();
                    for (int m = 0; m < fixed.length; m++) {
                        fixed[m] &= maskBytes[m];
                    }
                    throw new Bad("non-null host address bits in \"" + addrText + "/" + mask
                            + "\", perhaps you should use \"" + InetText.format(fixed) + "/" + shift + "\" instead");
                }
            }
            return new Rule(Op.MATCH, v6, net, maskBytes, match, value, lineno);
        }
        boolean v6 = InetText.isV6(addrText);
        byte[] net = InetText.parse(addrText);
        if (net == null) {
            throw new Bad("bad address pattern: \"" + addrText + "\"");
        }
        return new Rule(Op.MATCH, v6, net, maskBytes(net.length, net.length * 8), match, value, lineno);
    }

    private static byte[] maskBytes(int length, int shift) {
        byte[] m = new byte[length];
        for (int k = 0; k < length; k++) {
            int bits = Math.max(0, Math.min(8, shift - 8 * k));
            m[k] = (byte) (0xff << (8 - bits));
        }
        return m;
    }

    private static boolean allDigits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }
}
