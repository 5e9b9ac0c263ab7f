package org.estafeta.table.regexp;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The two table types: how a {@code /pattern/flags} is compiled, and which flags and rule forms exist. */
enum Dialect {
    /** regexp_table(5): POSIX regular expressions as glibc's {@code regcomp()} reads them. */
    REGEXP("regexp", "imx", true, true) {
        @Override
        Compiled compile(String pattern, String flags) {
            boolean icase = true;
            boolean newline = false;
            boolean extended = true;
            for (char f : flags.toCharArray()) {
                switch (f) {
                    case 'i' -> icase = !icase;
                    case 'm' -> newline = !newline;
                    case 'x' -> extended = !extended;
                    default -> throw new IllegalStateException("flag " + f);
                }
            }
            String java = PosixRegex.translate(pattern, extended, newline, icase);
            int opts = Pattern.UNIX_LINES | (icase ? Pattern.CASE_INSENSITIVE : 0) | (newline ? Pattern.MULTILINE : 0);
            return new Compiled(Pattern.compile(java, opts), false);
        }

        @Override
        String compileError(IllegalArgumentException e) {
            return e.getMessage();
        }
    },
    /** pcre_table(5): Perl-compatible regular expressions. */
    PCRE("pcre", "imsxAEUX", false, false) {
        @Override
        Compiled compile(String pattern, String flags) {
            boolean icase = true;
            boolean multiline = false;
            boolean dotall = true;
            boolean extended = false;
            boolean anchored = false;
            boolean dollarEndOnly = false;
            boolean ungreedy = false;
            for (char f : flags.toCharArray()) {
                switch (f) {
                    case 'i' -> icase = !icase;
                    case 'm' -> multiline = !multiline;
                    case 's' -> dotall = !dotall;
                    case 'x' -> extended = !extended;
                    case 'A' -> anchored = !anchored;
                    case 'E' -> dollarEndOnly = !dollarEndOnly;
                    case 'U' -> ungreedy = !ungreedy;
                    case 'X' -> {
                        // PCRE_EXTRA: obsolete, Postfix ignores it with a warning
                    }
                    default -> throw new IllegalStateException("flag " + f);
                }
            }
            String java = PcreRegex.translate(pattern, ungreedy, dollarEndOnly && !multiline);
            int opts = Pattern.UNIX_LINES | (icase ? Pattern.CASE_INSENSITIVE : 0) | (multiline ? Pattern.MULTILINE : 0)
                    | (dotall ? Pattern.DOTALL : 0) | (extended ? Pattern.COMMENTS : 0);
            return new Compiled(Pattern.compile(java, opts), anchored);
        }

        @Override
        String compileError(IllegalArgumentException e) {
            if (e instanceof PatternSyntaxException p) {
                return "error in regex at offset " + Math.max(p.getIndex(), 0) + ": " + p.getDescription();
            }
            return e.getMessage();
        }
    };

    final String type;
    final String flags;
    /** regexp tables allow {@code /pattern1/!/pattern2/}; pcre tables do not. */
    final boolean secondPattern;
    /** POSIX matching is leftmost-longest: substitutions use the longest match at the leftmost position. */
    final boolean longest;

    Dialect(String type, String flags, boolean secondPattern, boolean longest) {
        this.type = type;
        this.flags = flags;
        this.secondPattern = secondPattern;
        this.longest = longest;
    }

    /** Compiles; throws {@link IllegalArgumentException} (or {@link PatternSyntaxException}) when it cannot. */
    abstract Compiled compile(String pattern, String flags);

    /** The text Postfix would log for a pattern that does not compile. */
    abstract String compileError(IllegalArgumentException e);

    /** A compiled pattern; {@code anchored} (pcre's {@code A} flag) matches only at the start of the key. */
    record Compiled(Pattern pattern, boolean anchored) {
    }
}
