package org.estafeta.table.regexp;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * The compiled rules of one regexp: or pcre: table, read with the semantics of Postfix's dict_regexp.c and
 * dict_pcre.c: logical lines (a line starting with whitespace continues the previous one; empty and {@code #}
 * lines are skipped), {@code /pattern/flags result}, {@code !/pattern/}, regexp's {@code /p1/!/p2/},
 * {@code if /pattern/} … {@code endif} (nested, keywords in any case), {@code $n}, {@code ${n}}, {@code $(n)}
 * and {@code $$} in results, first match wins.
 *
 * <p>Where Postfix warns and skips a rule (or goes on with a guess), this class refuses the whole table with
 * Postfix's text: a gateway must not route mail by a table that means something else than its author wrote.
 */
final class RuleSet {
    private final Dialect dialect;
    private final List<Rule> rules;

    private RuleSet(Dialect dialect, List<Rule> rules) {
        this.dialect = dialect;
        this.rules = rules;
    }

    int size() {
        return rules.size();
    }

    /** One source line's pattern with its polarity. */
    private record Test(Dialect.Compiled compiled, boolean match) {
        boolean test(String key) {
            Matcher m = compiled.pattern().matcher(key);
            return (compiled.anchored() ? m.lookingAt() : m.find()) == match;
        }
    }

    private sealed interface Rule permits MatchRule, IfRule, EndifRule {
    }

    /** {@code parts} holds Strings (literal text) and Integers ($n); {@code maxSub} is the largest n. */
    private record MatchRule(Test first, Test second, List<Object> parts, int maxSub) implements Rule {
    }

    /** {@code endif} is the index of the matching endif, or -1 when the file has none. */
    private static final class IfRule implements Rule {
        final Test test;
        int endif = -1;

        IfRule(Test test) {
            this.test = test;
        }
    }

    private record EndifRule() implements Rule {
    }

    /** Thrown with Postfix's text, e.g. {@code regexp map /etc/x, line 3: unknown regexp option "q"}. */
    static final class SyntaxError extends Exception {
        private static final long serialVersionUID = 1L;

        SyntaxError(String message) {
            super(message);
        }
    }

    /** Compiles {@code text}, the content of the file {@code mapName}. */
    static RuleSet parse(Dialect dialect, String mapName, String text) throws SyntaxError {
        List<Rule> rules = new ArrayList<>();
        Deque<Integer> open = new ArrayDeque<>();
        Deque<Integer> openLines = new ArrayDeque<>();
        String prefix = dialect.type + " map " + mapName + ", line ";
        for (LogicalLine l : logicalLines(text)) {
            String p = l.text().stripTrailing();
            Parser parser = new Parser(dialect, prefix + l.first() + ": ", p);
            Rule rule = parser.rule(!open.isEmpty());
            if (rule instanceof IfRule) {
                open.push(rules.size());
                openLines.push(l.first());
            } else if (rule instanceof EndifRule) {
                ((IfRule) rules.get(open.pop())).endif = rules.size();
                openLines.pop();
            }
            rules.add(rule);
        }
        if (!open.isEmpty()) {
            throw new SyntaxError(prefix + openLines.peek() + ": IF has no matching ENDIF");
        }
        return new RuleSet(dialect, List.copyOf(rules));
    }

    /** Looks {@code key} up: the result of the first matching rule, or empty. */
    Optional<String> lookup(String key) {
        for (int i = 0; i < rules.size(); i++) {
            Rule rule = rules.get(i);
            if (rule instanceof MatchRule m) {
                Optional<String> r = apply(m, key);
                if (r.isPresent()) {
                    return r;
                }
            } else if (rule instanceof IfRule ifRule) {
                if (!ifRule.test.test(key)) {
                    if (ifRule.endif < 0) {
                        return Optional.empty();
                    }
                    i = ifRule.endif;
                }
            }
        }
        return Optional.empty();
    }

    private Optional<String> apply(MatchRule rule, String key) {
        if (rule.maxSub() == 0) {
            if (!rule.first().test(key) || (rule.second() != null && !rule.second().test(key))) {
                return Optional.empty();
            }
            return Optional.of((String) rule.parts().get(0));
        }
        // $n: the first pattern is a positive one (checked at load time)
        Dialect.Compiled c = rule.first().compiled();
        Matcher m = c.pattern().matcher(key);
        if (!(c.anchored() ? m.lookingAt() : m.find())) {
            return Optional.empty();
        }
        if (rule.second() != null && !rule.second().test(key)) {
            return Optional.empty();
        }
        if (dialect.longest) {
            longest(m, key);
        }
        StringBuilder sb = new StringBuilder();
        for (Object part : rule.parts()) {
            if (part instanceof String s) {
                sb.append(s);
            } else {
                String g = m.group((Integer) part);
                if (g != null) {
                    sb.append(g);
                }
            }
        }
        return Optional.of(sb.toString());
    }

    /**
     * POSIX picks the longest match at the leftmost position where one starts; Java the first one its
     * backtracking finds. Re-match at the same start, the longest region first (anchors and word boundaries still
     * see the whole key).
     */
    private static void longest(Matcher m, String key) {
        int start = m.start();
        int found = m.end();
        m.useTransparentBounds(true).useAnchoringBounds(false);
        for (int end = key.length(); end > found; end--) {
            m.region(start, end);
            if (m.matches()) {
                return;
            }
        }
        m.region(start, found);
        m.matches();
    }

    private record LogicalLine(int first, String text) {
    }

    /** readllines(): joins continuation lines, drops empty and comment lines, numbers each by its first line. */
    static List<LogicalLine> logicalLines(String text) {
        List<LogicalLine> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        int count = lines.length;
        if (text.endsWith("\n")) {
            count--;
        }
        StringBuilder cur = null;
        int first = 0;
        for (int i = 0; i < count; i++) {
            String line = lines[i];
            String stripped = line.strip();
            if (stripped.isEmpty() || stripped.startsWith("#")) {
                continue;
            }
            boolean continuation = Character.isWhitespace(line.charAt(0));
            if (continuation && cur != null) {
                cur.append(line);
                continue;
            }
            if (cur != null) {
                out.add(new LogicalLine(first, cur.toString()));
            }
            if (continuation) {
                // Postfix: "logical line must not start with whitespace", and skips it
                cur = null;
                continue;
            }
            cur = new StringBuilder(line);
            first = i + 1;
        }
        if (cur != null) {
            out.add(new LogicalLine(first, cur.toString()));
        }
        return out;
    }

    /** Parses one logical line (dict_regexp_parseline / dict_pcre_parse_rule). */
    private static final class Parser {
        private final Dialect dialect;
        private final String where;
        private final String s;
        private int p;

        Parser(Dialect dialect, String where, String s) {
            this.dialect = dialect;
            this.where = where;
            this.s = s;
        }

        Rule rule(boolean nested) throws SyntaxError {
            if (!isAlnum(at(p))) {
                return matchRule();
            }
            if (keyword("if")) {
                p += 2;
                skipSpace();
                Pat pat = pattern();
                skipSpace();
                if (p < s.length()) {
                    throw error("ignoring extra text after IF statement: \"" + s.substring(p) + "\"");
                }
                return new IfRule(new Test(compile(pat), pat.match));
            }
            if (keyword("endif")) {
                p += 5;
                if (!nested) {
                    throw error("ignoring ENDIF without matching IF");
                }
                skipSpace();
                if (p < s.length()) {
                    throw error("ignoring extra text after ENDIF");
                }
                return new EndifRule();
            }
            throw error("ignoring unrecognized request");
        }

        private MatchRule matchRule() throws SyntaxError {
            Pat first = pattern();
            Pat second = null;
            if (dialect.secondPattern && at(p) == '!') {
                second = pattern();
            }
            skipSpace();
            if (p >= s.length()) {
                throw error("no replacement text: using empty string");
            }
            List<Object> parts = replacement(s.substring(p));
            int maxSub = 0;
            for (Object o : parts) {
                if (o instanceof Integer n) {
                    maxSub = Math.max(maxSub, n);
                }
            }
            if (maxSub > 0 && !first.match) {
                throw error("$number found in negative match replacement text");
            }
            Dialect.Compiled c1 = compile(first);
            if (maxSub > c1.pattern().matcher("").groupCount()) {
                throw error("out of range replacement index \"" + maxSub + "\"");
            }
            Test t2 = second == null ? null : new Test(compile(second), second.match);
            return new MatchRule(new Test(c1, first.match), t2, List.copyOf(parts), maxSub);
        }

        /** mac_parse() with the prescan of dict_regexp/dict_pcre: literal text, $n, ${n}, $(n); $$ is $. */
        private List<Object> replacement(String text) throws SyntaxError {
            List<Object> parts = new ArrayList<>();
            StringBuilder lit = new StringBuilder();
            int i = 0;
            while (i < text.length()) {
                char c = text.charAt(i);
                if (c != '$') {
                    lit.append(c);
                    i++;
                    continue;
                }
                if (i + 1 < text.length() && text.charAt(i + 1) == '$') {
                    lit.append('$');
                    i += 2;
                    continue;
                }
                i++;
                String name;
                char open = at(text, i);
                if (open == '{' || open == '(') {
                    char close = open == '{' ? '}' : ')';
                    int level = 1;
                    int e = i + 1;
                    while (level > 0) {
                        if (e >= text.length()) {
                            throw error("bad replacement syntax");
                        }
                        char x = text.charAt(e);
                        if (x == open) {
                            level++;
                        } else if (x == close) {
                            level--;
                        }
                        e++;
                    }
                    name = text.substring(i + 1, e - 1);
                    i = e;
                } else {
                    int e = i;
                    while (e < text.length() && (isAlnum(text.charAt(e)) || text.charAt(e) == '_')) {
                        e++;
                    }
                    name = text.substring(i, e);
                    i = e;
                }
                if (name.isEmpty()) {
                    throw error("bad replacement syntax");
                }
                if (!name.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
                    throw error("non-numeric replacement index \"" + name + "\"");
                }
                int n;
                try {
                    n = Integer.parseInt(name);
                } catch (NumberFormatException e) {
                    n = Integer.MAX_VALUE;
                }
                if (n < 1) {
                    throw error((dialect == Dialect.REGEXP ? "out-of-range" : "out of range")
                            + " replacement index \"" + name + "\"");
                }
                if (lit.length() > 0) {
                    parts.add(lit.toString());
                    lit.setLength(0);
                }
                parts.add(n);
            }
            if (lit.length() > 0 || parts.isEmpty()) {
                parts.add(lit.toString());
            }
            return parts;
        }

        private record Pat(String regexp, String flags, boolean match) {
        }

        /** dict_regexp_get_pat / dict_pcre_get_pattern. */
        private Pat pattern() throws SyntaxError {
            boolean match = true;
            while (p < s.length()) {
                char c = s.charAt(p);
                if (c == '!') {
                    match = !match;
                } else if (!isSpace(c)) {
                    break;
                }
                p++;
            }
            if (p >= s.length()) {
                throw error("no regexp");
            }
            char delim = s.charAt(p++);
            int start = p;
            while (p < s.length()) {
                char c = s.charAt(p);
                if (c == '\\') {
                    if (p + 1 < s.length()) {
                        p++;
                    } else {
                        break;
                    }
                } else if (c == delim) {
                    break;
                }
                p++;
            }
            if (p >= s.length()) {
                throw error("no closing regexp delimiter \"" + delim + "\"");
            }
            String regexp = s.substring(start, p++);
            int flagStart = p;
            while (p < s.length() && !isSpace(s.charAt(p)) && (s.charAt(p) != '!' || !dialect.secondPattern)) {
                if (dialect.flags.indexOf(s.charAt(p)) < 0) {
                    throw error("unknown regexp option \"" + s.charAt(p) + "\"");
                }
                p++;
            }
            return new Pat(regexp, s.substring(flagStart, p), match);
        }

        private Dialect.Compiled compile(Pat pat) throws SyntaxError {
            try {
                return dialect.compile(pat.regexp, pat.flags);
            } catch (IllegalArgumentException e) {
                throw error(dialect.compileError(e));
            } catch (StackOverflowError e) {
                throw error("regular expression too complex");
            }
        }

        private boolean keyword(String word) {
            return s.regionMatches(true, p, word, 0, word.length()) && !isAlnum(at(p + word.length()));
        }

        private void skipSpace() {
            while (p < s.length() && isSpace(s.charAt(p))) {
                p++;
            }
        }

        private char at(int i) {
            return at(s, i);
        }

        private static char at(String t, int i) {
            return i < t.length() ? t.charAt(i) : 0;
        }

        private SyntaxError error(String message) {
            return new SyntaxError(where + message);
        }

        private static boolean isAlnum(char c) {
            return c < 128 && Character.isLetterOrDigit(c);
        }

        private static boolean isSpace(char c) {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
        }
    }
}
