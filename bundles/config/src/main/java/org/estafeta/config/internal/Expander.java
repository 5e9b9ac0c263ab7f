package org.estafeta.config.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code $name} expansion with the syntax and meaning of Postfix's mac_parse() and mac_expand():
 * <ul>
 * <li>{@code $name}, {@code ${name}}, {@code $(name)}: the value, itself expanded; empty when undefined;</li>
 * <li>{@code ${name?text}}, {@code ${name?{text}}}: text when the value is non-empty, else nothing;</li>
 * <li>{@code ${name:text}}, {@code ${name:{text}}}: text when the value is empty or undefined, else nothing;</li>
 * <li>{@code ${name?{text1}:{text2}}} and {@code ${name?{text1}:text2}}: one or the other;</li>
 * <li>{@code ${{text1} OP {text2} ? {text3} : {text4}}} with {@code == != < <= > >=} (numeric when both sides
 * are all digits);</li>
 * <li>{@code $$}: a literal {@code $}.</li>
 * </ul>
 * A parameter whose expansion comes back to itself is a {@link Loop}; syntax errors are {@link SyntaxError}s
 * worded as Postfix words them.
 */
final class Expander {

    /** Where names get their (unexpanded) values. */
    interface Scope {
        /** The unexpanded value, or null when the parameter is undefined. May call back into {@code session}. */
        String raw(String name, Session session);

        /** Whether the value of {@code name} is used as is, without expansion (Postfix's "raw" parameters). */
        boolean isRaw(String name);
    }

    /** An expansion that refers back to a parameter being expanded; {@link #cycle} starts and ends with that name. */
    static final class Loop extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final List<String> cycle;

        Loop(List<String> cycle) {
            super("unreasonable macro call nesting: " + String.join(" -> ", cycle.stream().map(n -> "$" + n).toList()));
            this.cycle = List.copyOf(cycle);
        }
    }

    /** Malformed expansion syntax, worded as Postfix. */
    static final class SyntaxError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SyntaxError(String message) {
            super(message);
        }
    }

    private static final int MAX_NESTING = 100;

    private Expander() {
    }

    /** One expansion: the chain of parameters being expanded, for loop detection. */
    static final class Session {
        private final Scope scope;
        private final Deque<String> stack = new ArrayDeque<>();

        Session(Scope scope) {
            this.scope = scope;
        }

        /** The expanded value of a parameter, or null when it is undefined. */
        String expandParameter(String name) {
            checkLoop(name);
            if (stack.size() > MAX_NESTING) {
                throw new SyntaxError("unreasonable macro call nesting: \"" + name + "\"");
            }
            stack.push(name);
            try {
                String value = scope.raw(name, this);
                if (value == null || scope.isRaw(name)) {
                    return value;
                }
                StringBuilder out = new StringBuilder();
                parse(value, new Expand(this, out));
                return out.toString();
            } finally {
                stack.pop();
            }
        }

        /** Expands arbitrary text (not a parameter's own value) in this session. */
        String expandText(String text) {
            StringBuilder out = new StringBuilder();
            parse(text, new Expand(this, out));
            return out.toString();
        }

        String rawValue(String name) {
            return scope.raw(name, this);
        }

        /**
         * Runs {@code compute} (a computed default of {@code name} that expands other parameters) as part of the
         * expansion chain, so that a default that comes back to itself is a {@link Loop}, not a stack overflow.
         */
        String withFrame(String name, java.util.function.Supplier<String> compute) {
            if (name.equals(stack.peek())) {
                return compute.get();
            }
            checkLoop(name);
            stack.push(name);
            try {
                return compute.get();
            } finally {
                stack.pop();
            }
        }

        private void checkLoop(String name) {
            if (stack.contains(name)) {
                List<String> cycle = new ArrayList<>();
                boolean in = false;
                for (var it = stack.descendingIterator(); it.hasNext();) {
                    String n = it.next();
                    if (n.equals(name)) {
                        in = true;
                    }
                    if (in) {
                        cycle.add(n);
                    }
                }
                cycle.add(name);
                throw new Loop(cycle);
            }
        }
    }

    /** Expands {@code text} in {@code scope}. */
    static String expand(String text, Scope scope) {
        return new Session(scope).expandText(text);
    }

    /** Reports every parameter name {@code text} refers to, in both branches of conditionals, without looking any up. */
    static void scan(String text, Consumer<String> names) {
        parse(text, new Scan(names));
    }

    // ---- parsing (mac_parse) ----

    private interface Action {
        void literal(String text);

        void expression(String expr);
    }

    private static void parse(String value, Action action) {
        StringBuilder lit = new StringBuilder();
        int n = value.length();
        int i = 0;
        while (i < n) {
            char c = value.charAt(i);
            if (c != '$') {
                lit.append(c);
                i++;
            } else if (i + 1 < n && value.charAt(i + 1) == '$') {
                lit.append('$');
                i += 2;
            } else {
                if (lit.length() > 0) {
                    action.literal(lit.toString());
                    lit.setLength(0);
                }
                i++;
                String expr;
                if (i < n && (value.charAt(i) == '{' || value.charAt(i) == '(')) {
                    char open = value.charAt(i);
                    char close = open == '{' ? '}' : ')';
                    int level = 1;
                    int j = i + 1;
                    for (; level > 0; j++) {
                        if (j >= n) {
                            throw new SyntaxError("truncated macro reference: \"" + value + "\"");
                        }
                        char d = value.charAt(j);
                        if (d == open) {
                            level++;
                        } else if (d == close) {
                            level--;
                        }
                    }
                    expr = value.substring(i + 1, j - 1);
                    i = j;
                } else {
                    int j = i;
                    while (j < n && isNameChar(value.charAt(j))) {
                        j++;
                    }
                    expr = value.substring(i, j);
                    i = j;
                }
                if (expr.isEmpty()) {
                    throw new SyntaxError("empty macro name: \"" + value + "\"");
                }
                action.expression(expr);
            }
        }
        if (lit.length() > 0) {
            action.literal(lit.toString());
        }
    }

    static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
    }

    private static boolean isWs(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    private static int skipWs(String s, int i) {
        while (i < s.length() && isWs(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** A parsed {@code ${...}} expression: what to look up (a name or a relation) and the result operands. */
    private static final class Expr {
        String name; // a parameter name, or null for a relational expression
        String left;
        String op;
        String right; // relational operands (unexpanded)
        char operator; // 0, '?' or ':'
        String ifTrue;
        String ifFalse;
    }

    /** {text} payload starting at s[i] == '{': returns {payload, index after '}' and trailing white space}. */
    private static Object[] curly(String s, int i, boolean strip) {
        int level = 1;
        int j = i + 1;
        for (; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '{') {
                level++;
            } else if (c == '}' && --level == 0) {
                break;
            }
        }
        if (j >= s.length()) {
            throw new SyntaxError("unbalanced {} in attribute expression: \"" + s.substring(i) + "\"");
        }
        String payload = s.substring(i + 1, j);
        if (strip) {
            payload = payload.strip();
        }
        return new Object[] {payload, skipWs(s, j + 1)};
    }

    private static Expr parseExpr(String buf) {
        Expr e = new Expr();
        int cp = skipWs(buf, 0);
        if (cp < buf.length() && buf.charAt(cp) == '{') {
            Object[] l = curly(buf, cp, true);
            e.left = (String) l[0];
            cp = (Integer) l[1];
            int opStart = cp;
            while (cp < buf.length() && "=!<>".indexOf(buf.charAt(cp)) >= 0) {
                cp++;
            }
            e.op = buf.substring(opStart, cp);
            if (buf.startsWith("level", cp)) { // Postfix 3.6's <level, <=level ...: compatibility levels
                e.op += "level";
                cp += 5;
            }
            if (!List.of("==", "!=", "<", "<=", ">", ">=").contains(e.op.replace("level", ""))) {
                throw new SyntaxError("unknown operator in attribute expression: \"" + buf + "\"");
            }
            cp = skipWs(buf, cp);
            if (cp >= buf.length() || buf.charAt(cp) != '{') {
                throw new SyntaxError("\"{expression}\" expected at: \"..." + buf.substring(0, cp) + ">>>"
                        + trunc(buf.substring(cp)) + "\"");
            }
            Object[] r = curly(buf, cp, true);
            e.right = (String) r[0];
            cp = (Integer) r[1];
            if (cp < buf.length()) {
                char ch = buf.charAt(cp);
                if (ch != '?' && ch != ':') {
                    throw new SyntaxError("\"?\" or \":\" expected at: \"...}>>>" + trunc(buf.substring(cp)) + "\"");
                }
                e.operator = ch;
                cp++;
            }
        } else {
            int start = cp;
            int end;
            for (;; cp++) {
                int k = skipWs(buf, cp);
                if (k >= buf.length()) {
                    end = cp;
                    cp = k;
                    break;
                }
                char ch = buf.charAt(k);
                if (ch == '?' || ch == ':') {
                    end = cp;
                    e.operator = ch;
                    cp = k + 1;
                    break;
                }
                if (ch == '{') {
                    throw new SyntaxError("unknown function: \"" + buf.substring(start, cp) + "\"");
                }
                if (!isNameChar(buf.charAt(cp))) {
                    throw new SyntaxError("attribute name syntax error at: \"..." + buf.substring(0, cp) + ">>>"
                            + trunc(buf.substring(cp)) + "\"");
                }
            }
            e.name = buf.substring(start, end);
        }
        if (e.operator == '?') {
            int k = skipWs(buf, cp);
            if (k < buf.length() && buf.charAt(k) == '{') {
                Object[] t = curly(buf, k, false);
                e.ifTrue = (String) t[0];
                cp = (Integer) t[1];
                if (cp < buf.length()) {
                    if (buf.charAt(cp) != ':') {
                        throw new SyntaxError("\":\" expected at: \"..." + e.ifTrue + "}>>>" + trunc(buf.substring(cp)) + "\"");
                    }
                    e.ifFalse = falseOperand(buf, cp + 1);
                }
            } else {
                e.ifTrue = buf.substring(cp);
            }
        } else if (e.operator == ':') {
            e.ifFalse = falseOperand(buf, cp);
        }
        return e;
    }

    private static String falseOperand(String buf, int cp) {
        int k = skipWs(buf, cp);
        if (k < buf.length() && buf.charAt(k) == '{') {
            Object[] f = curly(buf, k, false);
            int after = (Integer) f[1];
            if (after < buf.length()) {
                throw new SyntaxError("unexpected input at: \"..." + f[0] + "}>>>" + trunc(buf.substring(after)) + "\"");
            }
            return (String) f[0];
        }
        return buf.substring(cp);
    }

    private static String trunc(String s) {
        return s.length() > 20 ? s.substring(0, 20) : s;
    }

    private static boolean compare(String left, String op, String right) {
        int c;
        if (op.endsWith("level")) {
            op = op.substring(0, op.length() - 5);
            c = java.util.Arrays.compare(compatLevel(left), compatLevel(right));
        } else if (!left.isEmpty() && !right.isEmpty() && left.chars().allMatch(Character::isDigit)
                && right.chars().allMatch(Character::isDigit)) {
            c = new java.math.BigInteger(left).compareTo(new java.math.BigInteger(right));
        } else {
            c = left.compareTo(right);
        }
        return switch (op) {
            case "==" -> c == 0;
            case "!=" -> c != 0;
            case "<" -> c < 0;
            case "<=" -> c <= 0;
            case ">" -> c > 0;
            default -> c >= 0;
        };
    }

    /** Postfix's compat_level_from_string: {@code major[.minor[.patch]]}, compared part by part (3.10 &gt; 3.9). */
    private static int[] compatLevel(String text) {
        String t = text.strip();
        if (!t.matches("\\d{1,9}(\\.\\d{1,9}){0,2}")) {
            throw new SyntaxError("bad compatibility level: \"" + text + "\"");
        }
        String[] parts = t.split("\\.");
        int[] out = new int[3];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i]);
        }
        return out;
    }

    private static final class Expand implements Action {
        private final Session session;
        private final StringBuilder out;

        Expand(Session session, StringBuilder out) {
            this.session = session;
            this.out = out;
        }

        @Override
        public void literal(String text) {
            out.append(text);
        }

        @Override
        public void expression(String expr) {
            Expr e = parseExpr(expr);
            if (e.operator == 0 && e.name != null) {
                String x = session.expandParameter(e.name);
                if (x != null) {
                    out.append(x);
                }
                return;
            }
            boolean nonEmpty;
            if (e.name != null) {
                String v = session.rawValue(e.name);
                nonEmpty = v != null && !v.isEmpty();
            } else {
                nonEmpty = compare(session.expandText(e.left), e.op, session.expandText(e.right));
                if (e.operator == 0) {
                    out.append(nonEmpty ? "true" : "");
                    return;
                }
            }
            if (nonEmpty && e.ifTrue != null) {
                parse(e.ifTrue, this);
            } else if (!nonEmpty && e.ifFalse != null) {
                parse(e.ifFalse, this);
            }
        }
    }

    private static final class Scan implements Action {
        private final Consumer<String> names;

        Scan(Consumer<String> names) {
            this.names = names;
        }

        @Override
        public void literal(String text) {
        }

        @Override
        public void expression(String expr) {
            Expr e = parseExpr(expr);
            if (e.name != null) {
                names.accept(e.name);
            } else {
                parse(e.left, this);
                parse(e.right, this);
            }
            if (e.ifTrue != null) {
                parse(e.ifTrue, this);
            }
            if (e.ifFalse != null) {
                parse(e.ifFalse, this);
            }
        }
    }
}
