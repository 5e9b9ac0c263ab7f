package org.estafeta.table.regexp;

/**
 * Adapts a PCRE pattern to {@link java.util.regex.Pattern}, whose syntax is close to Perl's. What differs and is
 * rewritten here:
 * <ul>
 * <li>character classes: PCRE's {@code [:alpha:]} (and {@code [:^alpha:]}) become {@code \p{Alpha}}; a {@code [}
 * or {@code &} inside a class is literal in PCRE but nests or intersects in Java, so it is escaped; a {@code ]}
 * first in a class is literal in PCRE;</li>
 * <li>the {@code U} flag (PCRE_UNGREEDY) swaps greedy and lazy quantifiers;</li>
 * <li>the {@code E} flag (PCRE_DOLLAR_ENDONLY, ignored in multi-line mode) turns {@code $} into {@code \z};</li>
 * <li>{@code (?P<name>}, {@code (?P=name)} become Java's {@code (?<name>}, {@code \k<name>}.</li>
 * </ul>
 * {@code \Q...\E} is copied untouched. Anything else Java does not know fails to compile, and the table reports it.
 */
final class PcreRegex {
    private PcreRegex() {
    }

    static String translate(String re, boolean ungreedy, boolean dollarEndOnly) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        int n = re.length();
        boolean canQuantify = false;
        while (i < n) {
            char c = re.charAt(i);
            if (c == '\\') {
                if (i + 1 < n && re.charAt(i + 1) == 'Q') {
                    int end = re.indexOf("\\E", i + 2);
                    int stop = end < 0 ? n : end + 2;
                    out.append(re, i, stop);
                    i = stop;
                    canQuantify = true;
                    continue;
                }
                int stop = Math.min(n, i + 2);
                out.append(re, i, stop);
                i = stop;
                canQuantify = true;
                continue;
            }
            if (c == '[') {
                i = charClass(re, i, out);
                canQuantify = true;
                continue;
            }
            if (c == '(') {
                if (re.startsWith("(?P<", i)) {
                    out.append("(?<");
                    i += 4;
                } else if (re.startsWith("(?P=", i)) {
                    int close = re.indexOf(')', i);
                    if (close < 0) {
                        out.append(re, i, n);
                        break;
                    }
                    out.append("\\k<").append(re, i + 4, close).append('>');
                    i = close + 1;
                    canQuantify = true;
                    continue;
                } else {
                    out.append(c);
                    i++;
                    if (i < n && re.charAt(i) == '?') {
                        out.append('?');
                        i++;
                    }
                }
                canQuantify = false;
                continue;
            }
            if (c == '$' && dollarEndOnly) {
                out.append("\\z");
                i++;
                canQuantify = false;
                continue;
            }
            if (canQuantify && (c == '*' || c == '+' || c == '?' || (c == '{' && isInterval(re, i)))) {
                int end = c == '{' ? re.indexOf('}', i) + 1 : i + 1;
                out.append(re, i, end);
                i = end;
                if (i < n && re.charAt(i) == '+') {
                    out.append('+'); // possessive: unaffected by UNGREEDY
                    i++;
                } else if (i < n && re.charAt(i) == '?') {
                    if (!ungreedy) {
                        out.append('?');
                    }
                    i++;
                } else if (ungreedy) {
                    out.append('?');
                }
                canQuantify = false;
                continue;
            }
            out.append(c);
            i++;
            canQuantify = c != '|' && c != '^' && c != '$';
        }
        return out.toString();
    }

    private static boolean isInterval(String re, int i) {
        int close = re.indexOf('}', i);
        return close > i && re.substring(i + 1, close).matches("\\d+(,\\d*)?|,\\d+");
    }

    /** Copies the class starting at {@code re[i] == '['} in Java's syntax; returns the index after its {@code ]}. */
    private static int charClass(String re, int i, StringBuilder out) {
        int n = re.length();
        int j = i + 1;
        out.append('[');
        if (j < n && re.charAt(j) == '^') {
            out.append('^');
            j++;
        }
        boolean first = true;
        while (j < n) {
            char c = re.charAt(j);
            if (c == ']' && !first) {
                out.append(']');
                return j + 1;
            }
            first = false;
            if (c == '\\' && j + 1 < n) {
                if (re.charAt(j + 1) == 'Q') {
                    int end = re.indexOf("\\E", j + 2);
                    String lit = re.substring(j + 2, end < 0 ? n : end);
                    for (char l : lit.toCharArray()) {
                        out.append("\\x{").append(Integer.toHexString(l)).append('}');
                    }
                    j = end < 0 ? n : end + 2;
                    continue;
                }
                out.append(re, j, j + 2);
                j += 2;
                continue;
            }
            if (c == '[' && j + 1 < n && re.charAt(j + 1) == ':') {
                int end = re.indexOf(":]", j + 2);
                if (end > 0) {
                    String name = re.substring(j + 2, end);
                    boolean negate = name.startsWith("^");
                    if (name.equals("word") || name.equals("^word")) {
                        out.append(negate ? "\\W" : "\\w");
                        j = end + 2;
                        continue;
                    }
                    String prop = posixProperty(negate ? name.substring(1) : name);
                    if (prop != null) {
                        out.append(negate ? "\\P" : "\\p").append(prop);
                        j = end + 2;
                        continue;
                    }
                }
            }
            if (c == '[' || c == '&' || c == ']') {
                out.append('\\');
            }
            out.append(c);
            j++;
        }
        return j; // unterminated: Java reports the error
    }

    private static String posixProperty(String name) {
        return switch (name) {
            case "alpha" -> "{Alpha}";
            case "upper" -> "{Upper}";
            case "lower" -> "{Lower}";
            case "digit" -> "{Digit}";
            case "alnum" -> "{Alnum}";
            case "xdigit" -> "{XDigit}";
            case "space" -> "{Space}";
            case "blank" -> "{Blank}";
            case "punct" -> "{Punct}";
            case "print" -> "{Print}";
            case "graph" -> "{Graph}";
            case "cntrl" -> "{Cntrl}";
            case "ascii" -> "{ASCII}";
            default -> null;
        };
    }
}
