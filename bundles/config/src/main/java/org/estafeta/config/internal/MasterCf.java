package org.estafeta.config.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigWarning;
import org.estafeta.config.MasterEntry;

/**
 * Reads master.cf as Postfix's postconf_master.c and master_ent.c do: logical lines (continuations start with
 * white space), eight columns, then daemon options ({@code -o name=value}, {@code -oname=value},
 * {@code -o { name = value }}, {@code -v} …) up to the first non-option argument, then the other arguments.
 * Text in {@code { }} is one field.
 */
public final class MasterCf {

    /**
     * An entry together with its normalized argument vector (for {@code postconf -M}) and the physical line of
     * each {@code -o} override (for warnings).
     */
    public record Parsed(MasterEntry entry, List<String> argv, Map<String, Integer> overrideLines) {
    }

    static final Set<String> TYPES = Set.of("inet", "unix", "unix-dgram", "fifo", "pass");
    private static final String[] FIELD_NAMES = {"service", "type", "private", "unpriv", "chroot", "wakeup",
        "maxproc", "command"};

    private MasterCf() {
    }

    static List<Parsed> parse(String content, String file, List<ConfigWarning> warnings) throws ConfigException {
        List<Parsed> out = new ArrayList<>();
        for (LogicalLine ll : LogicalLineReader.read(content, file, warnings::add)) {
            out.add(parseEntry(ll, file));
        }
        return out;
    }

    private record Token(String text, int offset, boolean braced) {
    }

    /** Splits on blanks, keeping balanced {@code { }} groups together (Postfix's argv_splitq with "{}"). */
    private static List<Token> split(String s, String file, int line) throws ConfigException {
        List<Token> tokens = new ArrayList<>();
        int n = s.length();
        int i = 0;
        while (true) {
            while (i < n && LogicalLineReader.isSpace(s.charAt(i))) {
                i++;
            }
            if (i >= n) {
                return tokens;
            }
            int start = i;
            int level = 0;
            while (i < n && (level > 0 || !LogicalLineReader.isSpace(s.charAt(i)))) {
                char c = s.charAt(i);
                if (c == '{') {
                    level++;
                } else if (c == '}') {
                    level--;
                }
                i++;
            }
            if (level > 0) {
                throw new ConfigException(file, line, "missing '}' in \"" + s.substring(start) + "\"");
            }
            tokens.add(new Token(s.substring(start, i), start, s.charAt(start) == '{'));
        }
    }

    /** Text inside {@code { }}, stripped, as Postfix's extpar(..., EXTPAR_FLAG_STRIP). */
    private static String unbrace(String text, String file, int line) throws ConfigException {
        if (!text.startsWith("{")) {
            return text;
        }
        if (!text.endsWith("}")) {
            throw new ConfigException(file, line, "syntax error after '}' in \"" + text + "\"");
        }
        return text.substring(1, text.length() - 1).strip();
    }

    private static Parsed parseEntry(LogicalLine ll, String file) throws ConfigException {
        String raw = ll.text();
        int line = ll.firstLine();
        List<Token> tokens = split(raw, file, line);
        if (tokens.size() < 8) {
            throw new ConfigException(file, line, "bad field count: \"" + raw + "\"");
        }
        String[] f = new String[8];
        for (int i = 0; i < 8; i++) {
            f[i] = tokens.get(i).text();
        }
        if (!TYPES.contains(f[1])) {
            throw invalid(file, line, 1, f[1], raw);
        }
        for (int i = 2; i <= 4; i++) {
            if (f[i].length() != 1 || "yn-".indexOf(f[i].charAt(0)) < 0) {
                throw invalid(file, line, i, f[i], raw);
            }
        }
        String wakeup = f[5].endsWith("?") ? f[5].substring(0, f[5].length() - 1) : f[5];
        if (!f[5].equals("-") && !wakeup.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw invalid(file, line, 5, f[5], raw);
        }
        if (!f[6].equals("-") && (f[6].isEmpty() || !f[6].chars().allMatch(c -> c >= '0' && c <= '9'))) {
            throw invalid(file, line, 6, f[6], raw);
        }
        List<String> argv = new ArrayList<>(List.of(f));
        Map<String, String> overrides = new LinkedHashMap<>();
        Map<String, Integer> overrideLines = new LinkedHashMap<>();
        List<String> arguments = new ArrayList<>();
        int k = 8;
        boolean options = true;
        while (k < tokens.size()) {
            Token t = tokens.get(k);
            String a = t.text();
            int argLine = ll.lineAt(t.offset());
            if (options && (!a.startsWith("-") || a.equals("--"))) {
                options = false;
            }
            if (!options) {
                String v = unbrace(a, file, argLine);
                argv.add(v);
                arguments.add(v);
                k++;
                continue;
            }
            // "-vo name=value": split off the option that expects a value
            int o = a.indexOf('o', 1);
            if (o > 1) {
                String flags = a.substring(0, o);
                argv.add(flags);
                arguments.add(flags);
                a = "-" + a.substring(o);
            }
            if (a.length() < 2 || a.charAt(1) != 'o') {
                argv.add(a);
                arguments.add(a);
                k++;
                continue;
            }
            String value;
            if (a.length() > 2) {
                value = a.substring(2);
                k++;
            } else if (k + 1 < tokens.size()) {
                Token vt = tokens.get(k + 1);
                value = vt.text();
                argLine = ll.lineAt(vt.offset());
                k += 2;
            } else {
                throw new ConfigException(file, argLine, "option -o requires a value: \"" + raw + "\"");
            }
            boolean braced = value.startsWith("{");
            value = unbrace(value, file, argLine);
            String[] nv = new String[2];
            String err = MainCf.splitNameValue(value, nv);
            if (err != null) {
                throw new ConfigException(file, argLine, "invalid \"-o " + value + "\" option value: " + err);
            }
            if (braced) {
                value = nv[0] + "=" + nv[1];
            } else {
                // unbraced: the text after '=' as written (a token holds no blanks)
                int eq = value.indexOf('=');
                nv[0] = value.substring(0, eq);
                nv[1] = value.substring(eq + 1);
            }
            argv.add("-o");
            argv.add(value);
            overrides.put(nv[0], nv[1]);
            overrideLines.put(nv[0], argLine);
        }
        MasterEntry entry = new MasterEntry(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], overrides, arguments,
                file, line);
        return new Parsed(entry, List.copyOf(argv), overrideLines);
    }

    private static ConfigException invalid(String file, int line, int field, String value, String raw) {
        return new ConfigException(file, line,
                "invalid " + FIELD_NAMES[field] + " field \"" + value + "\" in \"" + raw.replace('\n', ' ') + "\"");
    }
}
