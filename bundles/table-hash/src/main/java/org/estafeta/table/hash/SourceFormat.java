package org.estafeta.table.hash;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.estafeta.table.support.LogicalLines;

/**
 * The text sources of indexed tables, read as Postfix's postmap(1) and postalias(1) read them: logical lines
 * (comments, empty lines, continuation lines that start with white space), then for postmap {@code key value}
 * (the key ends at the first white space outside double quotes and keeps its quotes) and for postalias
 * {@code name: value} (RFC 822 tokens, as Postfix's tok822 parser: the name in internal form, the value in
 * external form with a space after each comma). Lines that do not fit are skipped with Postfix's warning texts.
 * The source is read in pieces, so a large file is never held in memory as a whole.
 */
public final class SourceFormat {
    /** Which command's syntax. */
    public enum Kind {
        /** {@code key whitespace value} */
        POSTMAP,
        /** {@code name: value} */
        POSTALIAS
    }

    /** Receives each entry of a source, with the number of the line it starts on. */
    @FunctionalInterface
    public interface Sink {
        void accept(String key, String value, int line) throws IOException;
    }

    private static final int CHUNK_LINES = 2000;

    private SourceFormat() {
    }

    /**
     * Reads every entry of {@code in}; {@code path} names the source in warnings ({@code stdin} for postmap -i).
     */
    public static void read(Reader in, String path, Kind kind, Consumer<String> warn, Sink sink) throws IOException {
        List<String> chunk = new ArrayList<>();
        int firstLine = 1;
        StringBuilder line = new StringBuilder();
        char[] buf = new char[8192];
        boolean pending = false;
        for (int n; (n = in.read(buf)) > 0;) {
            for (int i = 0; i < n; i++) {
                char c = buf[i];
                pending = true;
                if (c != '\n') {
                    line.append(c);
                    continue;
                }
                pending = false;
                String physical = line.toString();
                line.setLength(0);
                if (chunk.size() >= CHUNK_LINES && startsLogicalLine(physical)) {
                    entries(chunk, firstLine, path, kind, warn, sink);
                    firstLine += chunk.size();
                    chunk.clear();
                }
                chunk.add(physical);
            }
        }
        if (pending) {
            chunk.add(line.toString());
        }
        entries(chunk, firstLine, path, kind, warn, sink);
    }

    /** A physical line that cannot continue the previous logical line (LogicalLines's rule). */
    private static boolean startsLogicalLine(String physical) {
        return !physical.isEmpty() && physical.charAt(0) != '#' && !LogicalLines.isSpace(physical.charAt(0));
    }

    private static void entries(List<String> chunk, int firstLine, String path, Kind kind, Consumer<String> warn,
            Sink sink) throws IOException {
        if (chunk.isEmpty()) {
            return;
        }
        for (LogicalLines.Line l : LogicalLines.split(path, String.join("\n", chunk), warn)) {
            int number = firstLine + l.number() - 1;
            if (kind == Kind.POSTMAP) {
                postmapEntry(l.text(), path, number, warn, sink);
            } else {
                aliasEntry(l.text(), path, number, warn, sink);
            }
        }
    }

    private static void postmapEntry(String buf, String path, int number, Consumer<String> warn, Sink sink)
            throws IOException {
        int n = buf.length();
        boolean inQuotes = false;
        int split = 0;
        for (; split < n; split++) {
            char c = buf.charAt(split);
            if (c == '\\') {
                if (++split >= n) {
                    break;
                }
            } else if (LogicalLines.isSpace(c)) {
                if (!inQuotes) {
                    break;
                }
            } else if (c == '"') {
                inQuotes = !inQuotes;
            }
        }
        if (inQuotes) {
            warn.accept(path + ", line " + number + ": unbalanced '\"' in '" + buf + "' -- ignoring this line");
            return;
        }
        String key = buf.substring(0, Math.min(split, n));
        String value = split < n ? LogicalLines.trimTrailing(LogicalLines.trimLeading(buf.substring(split + 1))) : "";
        if (key.isEmpty() || value.isEmpty()) {
            warn.accept(path + ", line " + number + ": expected format: key whitespace value");
            return;
        }
        if (key.endsWith(":")) {
            warn.accept(path + ", line " + number + ": record is in \"key: value\" format; is this an alias file?");
        }
        sink.accept(key, value, number);
    }

    private static void aliasEntry(String buf, String path, int number, Consumer<String> warn, Sink sink)
            throws IOException {
        List<Token> tokens = Token.scan(buf);
        if (tokens.isEmpty()) {
            return;
        }
        int colon = -1;
        for (int i = 0; i < tokens.size() && colon < 0; i++) {
            if (tokens.get(i).is(':')) {
                colon = i;
            }
        }
        boolean commaBefore = false;
        boolean domainBefore = false;
        for (int i = 0; i < colon; i++) {
            commaBefore |= tokens.get(i).is(',');
            domainBefore |= tokens.get(i).is('@') || tokens.get(i).is('%');
        }
        if (colon <= 0 || colon == tokens.size() - 1 || commaBefore) {
            warn.accept(path + ", line " + number + ": need name:value pair");
            return;
        }
        if (domainBefore) {
            warn.accept(path + ", line " + number + ": name must be local");
            return;
        }
        sink.accept(Token.internal(tokens.subList(0, colon)), Token.external(tokens.subList(colon + 1, tokens.size())),
                number);
    }

    /** One RFC 822 token as Postfix's tok822_scan makes it: an atom, a quoted string, a comment, a domain literal or an operator. */
    private record Token(char type, String text) {
        static final char ATOM = 'A';
        static final char QSTRING = 'Q';
        static final char COMMENT = 'C';
        static final char DOMLIT = 'D';
        static final String OPERATORS = "|%!()<>@,;:\\\".[]";

        boolean is(char op) {
            return type == op;
        }

        boolean operand() {
            return type == ATOM || type == QSTRING || type == COMMENT || type == DOMLIT;
        }

        static List<Token> scan(String s) {
            List<Token> out = new ArrayList<>();
            int i = 0;
            int n = s.length();
            while (i < n) {
                char c = s.charAt(i++);
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                    continue;
                }
                StringBuilder t = new StringBuilder();
                if (c == '(') {
                    t.append('(');
                    for (int level = 1; i < n;) {
                        char d = s.charAt(i++);
                        t.append(d);
                        if (d == '(') {
                            level++;
                        } else if (d == ')') {
                            if (--level == 0) {
                                break;
                            }
                        } else if (d == '\\' && i < n) {
                            t.append(s.charAt(i++));
                        }
                    }
                    out.add(new Token(COMMENT, t.toString()));
                } else if (c == '[' || c == '"') {
                    char end = c == '[' ? ']' : '"';
                    i = collect(s, i, t, d -> d != end);
                    if (i < n) {
                        i++; // the closing character
                    }
                    out.add(new Token(c == '[' ? DOMLIT : QSTRING, t.toString()));
                } else if (c != '\\' && OPERATORS.indexOf(c) >= 0) {
                    out.add(new Token(c, String.valueOf(c)));
                } else {
                    i = collect(s, i - 1, t, d -> !(d == ' ' || d == '\t' || d == '\r' || d == '\n')
                            && OPERATORS.indexOf(d) < 0);
                    String atom = t.toString();
                    boolean quote = atom.chars().anyMatch(d -> d == ' ' || d < 32 || d == 127
                            || OPERATORS.indexOf(d) >= 0);
                    out.add(new Token(quote ? QSTRING : ATOM, atom));
                }
            }
            return out;
        }

        /** tok822's COLLECT: a backslash takes the next character as it is; white space becomes a space. */
        private static int collect(String s, int i, StringBuilder t, java.util.function.IntPredicate more) {
            int n = s.length();
            while (i < n) {
                char c = s.charAt(i);
                if (c == '\\') {
                    if (++i >= n) {
                        break;
                    }
                    c = s.charAt(i);
                } else if (!more.test(c)) {
                    break;
                }
                t.append(c == '\t' || c == '\r' || c == '\n' ? ' ' : c);
                i++;
            }
            return i;
        }

        /** tok822_internalize: quoted strings without their quotes. */
        static String internal(List<Token> tokens) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < tokens.size(); i++) {
                Token t = tokens.get(i);
                b.append(t.type == DOMLIT ? "[" + t.text + "]" : t.text);
                space(b, tokens, i);
            }
            return b.toString();
        }

        /** tok822_externalize: quoted strings quoted again, a space after each comma. */
        static String external(List<Token> tokens) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < tokens.size(); i++) {
                Token t = tokens.get(i);
                switch (t.type) {
                    case ',' -> {
                        b.append(", ");
                        continue;
                    }
                    case QSTRING -> b.append('"').append(quoted(t.text, "\"\\\r\n")).append('"');
                    case DOMLIT -> b.append('[').append(quoted(t.text, "\\\r\n")).append(']');
                    default -> b.append(t.text);
                }
                space(b, tokens, i);
            }
            return b.toString();
        }

        private static void space(StringBuilder b, List<Token> tokens, int i) {
            if (i + 1 >= tokens.size()) {
                return;
            }
            Token t = tokens.get(i);
            Token next = tokens.get(i + 1);
            if (t.is(',') || next.is('<') || t.operand() && next.operand()) {
                b.append(' ');
            }
        }

        private static String quoted(String s, String set) {
            StringBuilder b = new StringBuilder();
            for (char c : s.toCharArray()) {
                if (set.indexOf(c) >= 0) {
                    b.append('\\');
                }
                b.append(c);
            }
            return b.toString();
        }
    }
}
