package org.estafeta.config.postconf;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigWarning;
import org.estafeta.config.internal.BuiltinParameters;
import org.estafeta.config.internal.Loader;
import org.estafeta.config.internal.MasterCf;
import org.estafeta.config.internal.Snapshot;

/**
 * {@code postconf [-c config_dir] [-dfhnx] [name ...]} and {@code postconf -M [-fx] [service[/type] ...]}, with
 * the output of Postfix's postconf: {@code name = value} lines with white space normalized, values as written
 * ({@code -x}: expanded), {@code -n} only what main.cf sets, {@code -d} the built-in defaults. Diagnostics go to
 * {@code err} as {@code estafeta/postconf: warning: ...} and {@code estafeta/postconf: fatal: ...}.
 */
public final class Postconf {
    /** The program name in diagnostics, as Postfix prints its own argv[0]. */
    public static final String PROGRAM = "estafeta/postconf";

    private static final int LINE_LIMIT = 80;
    private static final String INDENT = "    ";
    private static final int[] COLUMN_GOAL = {0, 11, 17, 25, 33, 41, 49, 57};

    private Postconf() {
    }

    /**
     * Runs the command.
     *
     * @param args the arguments after {@code postconf}
     * @param out standard output
     * @param err standard error
     * @param defaultConfigDir the directory used without {@code -c}
     * @param varDir the data directory (default of {@code estafeta_var_directory})
     * @return the exit status: 0, or 1 after a fatal error
     */
    public static int run(String[] args, PrintStream out, PrintStream err, Path defaultConfigDir, Path varDir) {
        String configText = null;
        boolean defaults = false;
        boolean nonDefault = false;
        boolean expand = false;
        boolean fold = false;
        boolean hideName = false;
        boolean master = false;
        List<String> names = new ArrayList<>();
        int i = 0;
        for (; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                i++;
                break;
            }
            if (!a.startsWith("-") || a.length() < 2) {
                break;
            }
            for (int k = 1; k < a.length(); k++) {
                char c = a.charAt(k);
                switch (c) {
                    case 'c' -> {
                        if (k + 1 < a.length()) {
                            configText = a.substring(k + 1);
                        } else if (i + 1 < args.length) {
                            configText = args[++i];
                        } else {
                            return usage(err, "option requires an argument -- 'c'");
                        }
                        k = a.length();
                    }
                    case 'd' -> defaults = true;
                    case 'n' -> nonDefault = true;
                    case 'x' -> expand = true;
                    case 'f' -> fold = true;
                    case 'h' -> hideName = true;
                    case 'M' -> master = true;
                    default -> {
                        return usage(err, "invalid option -- '" + c + "'");
                    }
                }
            }
        }
        for (; i < args.length; i++) {
            names.add(args[i]);
        }
        if (defaults && nonDefault) {
            err.println(PROGRAM + ": fatal: specify one of -d and -n");
            return 1;
        }
        Path configDir = configText != null ? Path.of(configText) : defaultConfigDir;
        Snapshot snapshot;
        try {
            snapshot = Loader.load(configDir.toAbsolutePath().normalize(), varDir.toAbsolutePath().normalize(), 1,
                    configText);
        } catch (ConfigException e) {
            err.println(PROGRAM + ": fatal: " + e.getMessage());
            return 1;
        }
        List<String> warnings = new ArrayList<>();
        try {
            if (master) {
                showMaster(snapshot, names, expand, fold, out, warnings);
            } else {
                showParameters(snapshot, names, defaults, nonDefault, expand, fold, hideName, out, warnings);
            }
        } catch (ConfigException | IllegalArgumentException e) {
            out.flush();
            err.println(PROGRAM + ": fatal: " + e.getMessage());
            return 1;
        }
        out.flush();
        for (String w : warnings) {
            err.println(PROGRAM + ": warning: " + w);
        }
        for (ConfigWarning w : snapshot.warnings()) {
            err.println(PROGRAM + ": warning: " + w);
        }
        return 0;
    }

    private static int usage(PrintStream err, String why) {
        err.println(PROGRAM + ": " + why);
        err.println(PROGRAM + ": fatal: usage: estafeta postconf [-c config_dir] [-dfhnx] [name ...]"
                + " | -M [-fx] [service[/type] ...]");
        return 1;
    }

    private static void showParameters(Snapshot snapshot, List<String> names, boolean defaults, boolean nonDefault,
            boolean expand, boolean fold, boolean hideName, PrintStream out, List<String> warnings)
            throws ConfigException {
        Snapshot source = defaults ? snapshot.defaultsOnly() : snapshot;
        if (names.isEmpty()) {
            TreeSet<String> all = new TreeSet<>();
            if (nonDefault) {
                // as Postfix: a name nothing knows or uses is not printed (it gets "unused parameter" instead)
                for (String n : snapshot.explicitNames()) {
                    if (Loader.isKnown(snapshot, n)) {
                        all.add(n);
                    }
                }
            } else {
                all.addAll(BuiltinParameters.names());
                if (!defaults) {
                    for (String n : snapshot.explicitNames()) {
                        if (Loader.isKnown(snapshot, n)) {
                            all.add(n);
                        }
                    }
                }
            }
            for (String n : all) {
                print(source, n, expand, fold, hideName, out);
            }
            return;
        }
        for (String n : names) {
            if (!Loader.isKnown(snapshot, n)) {
                warnings.add(n + ": unknown parameter");
                continue;
            }
            if (nonDefault && !snapshot.isExplicit(n)) {
                continue;
            }
            if (source.rawValue(n) == null) {
                warnings.add(n + ": parameter not supported yet");
                continue;
            }
            print(source, n, expand, fold, hideName, out);
        }
    }

    private static void print(Snapshot s, String name, boolean expand, boolean fold, boolean hideName,
            PrintStream out) {
        String value = expand ? s.get(name).orElse("") : Optional.ofNullable(s.rawValue(name)).orElse("");
        printLine(out, fold, hideName ? value : name + " = " + value);
    }

    /** Postfix's pcf_print_line(): white space normalized to single spaces; with -f, folded at 80 columns. */
    static void printLine(PrintStream out, boolean fold, String text) {
        StringBuilder sb = new StringBuilder();
        int lineLen = 0;
        for (String word : text.split("[ \t\r\n]+")) {
            if (word.isEmpty()) {
                continue;
            }
            if (lineLen > 0) {
                if (!fold || lineLen + word.length() < LINE_LIMIT) {
                    sb.append(' ');
                    lineLen++;
                } else {
                    sb.append('\n').append(INDENT);
                    lineLen = INDENT.length();
                }
            }
            sb.append(word);
            lineLen += word.length();
        }
        out.print(sb.append('\n'));
    }

    private static void showMaster(Snapshot snapshot, List<String> patterns, boolean expand, boolean fold,
            PrintStream out, List<String> warnings) {
        boolean[] matched = new boolean[patterns.size()];
        for (MasterCf.Parsed p : snapshot.parsedServices()) {
            boolean show = patterns.isEmpty();
            for (int k = 0; k < patterns.size(); k++) {
                String[] sp = patterns.get(k).split("/", 2);
                if (sp[0].equals(p.entry().service()) && (sp.length == 1 || sp[1].equals(p.entry().type()))) {
                    show = true;
                    matched[k] = true;
                }
            }
            if (show) {
                printMasterEntry(expand ? snapshot.serviceSnapshot(p) : null, p, fold, out);
            }
        }
        for (int k = 0; k < patterns.size(); k++) {
            if (!matched[k]) {
                warnings.add("unmatched request: \"" + patterns.get(k) + "\"");
            }
        }
    }

    /** Postfix's pcf_print_master_entry(): the eight columns at their preferred positions, then the arguments. */
    private static void printMasterEntry(Snapshot scope, MasterCf.Parsed p, boolean fold, PrintStream out) {
        List<String> argv = p.argv();
        StringBuilder sb = new StringBuilder();
        int lineLen = 0;
        for (int f = 0; f < 8; f++) {
            if (lineLen > 0) {
                do {
                    sb.append(' ');
                    lineLen++;
                } while (lineLen < COLUMN_GOAL[f]);
            }
            sb.append(argv.get(f));
            lineLen += argv.get(f).length();
        }
        boolean options = true;
        for (int f = 8; f < argv.size(); f++) {
            String arg = argv.get(f);
            int argLen = arg.length();
            String aval = null;
            boolean parens = false;
            if (options) {
                if (!arg.startsWith("-") || arg.equals("--")) {
                    options = false;
                } else if (arg.equals("-o") && f + 1 < argv.size()) {
                    aval = argv.get(f + 1);
                    lineLen = LINE_LIMIT;
                    if (scope != null) {
                        int eq = aval.indexOf('=');
                        aval = aval.substring(0, eq + 1) + scope.expandText(aval.substring(eq + 1));
                    }
                    argLen += aval.length() + 3;
                    parens = hasBlank(aval);
                    if (parens) {
                        argLen += 2;
                    }
                }
            }
            if (!options) {
                parens = hasBlank(arg);
            }
            if (lineLen > INDENT.length()) {
                if (!fold || lineLen + 1 + argLen < LINE_LIMIT) {
                    sb.append(' ');
                    lineLen++;
                } else {
                    sb.append('\n').append(INDENT);
                    lineLen = INDENT.length();
                }
            }
            String shown = !options && parens ? "{" + arg + "}" : arg;
            sb.append(shown);
            lineLen += shown.length();
            if (aval != null) {
                sb.append(' ').append(parens ? "{" + aval + "}" : aval);
                f++;
                lineLen = LINE_LIMIT;
            }
        }
        out.print(sb.append('\n'));
    }

    private static boolean hasBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                return true;
            }
        }
        return false;
    }
}
