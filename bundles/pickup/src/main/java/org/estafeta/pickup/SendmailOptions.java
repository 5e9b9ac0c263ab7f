package org.estafeta.pickup;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The command line of {@code estafeta sendmail}, read as Postfix's sendmail reads it (getopt with
 * {@code A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx}; options end at the first non-option or at {@code --};
 * options Postfix ignores are ignored here too).
 *
 * @param sender {@code -f} or {@code -r}, as given (parsed later); empty when not given
 * @param fullName {@code -F}; empty when not given
 * @param extractRecipients {@code -t}
 * @param dotEnds whether a line with a lone dot ends the message (no {@code -i} or {@code -oi})
 * @param notifyOn {@code -N}: the DSN NOTIFY values, empty when not given
 * @param ret {@code -R}: {@code FULL} or {@code HDRS}, empty when not given
 * @param envid {@code -V}: the DSN ENVID, empty when not given
 * @param body {@code -B}: {@code 8BITMIME} or {@code 7BIT}, empty when not given
 * @param configDirectory {@code -C}: the configuration directory (or its main.cf), empty when not given
 * @param recipients the arguments after the options (each an address list)
 * @param warnings what Postfix's sendmail would warn about (bad -N, -R, -V values), without the program name
 */
public record SendmailOptions(Optional<String> sender, Optional<String> fullName, boolean extractRecipients,
        boolean dotEnds, List<String> notifyOn, Optional<String> ret, Optional<String> envid, Optional<String> body,
        Optional<String> configDirectory, List<String> recipients, List<String> warnings) {

    /** BSD sysexits, as Postfix's sendmail uses them. */
    public static final int EX_OK = 0;
    public static final int EX_USAGE = 64;
    public static final int EX_DATAERR = 65;
    public static final int EX_NOUSER = 67;
    public static final int EX_UNAVAILABLE = 69;
    public static final int EX_SOFTWARE = 70;
    public static final int EX_OSERR = 71;
    public static final int EX_TEMPFAIL = 75;
    public static final int EX_NOPERM = 77;

    private static final String WITH_ARGUMENT = "ABCFLNORVXbefhopqr";
    private static final String FLAGS = "GIUcimntvx";

    /** A command line Postfix's sendmail refuses: the text for {@code sendmail: fatal: ...} and the exit code. */
    public static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int exit;

        public UsageException(int exit, String message) {
            super(message);
            this.exit = exit;
        }

        public int exit() {
            return exit;
        }
    }

    /** Parses {@code args} (the arguments after {@code sendmail}). */
    public static SendmailOptions parse(List<String> args) throws UsageException {
        Optional<String> sender = Optional.empty();
        Optional<String> fullName = Optional.empty();
        boolean extract = false;
        boolean dotEnds = true;
        List<String> notify = List.of();
        Optional<String> ret = Optional.empty();
        Optional<String> envid = Optional.empty();
        Optional<String> body = Optional.empty();
        Optional<String> conf = Optional.empty();
        List<String> warnings = new ArrayList<>();
        char mode = 'm';
        int i = 0;
        while (i < args.size()) {
            String a = args.get(i);
            if (a.equals("--")) {
                i++;
                break;
            }
            if (!a.startsWith("-") || a.length() == 1) {
                break;
            }
            i++;
            if (a.equals("-q")) {
                mode = 'q';
                continue;
            }
            for (int j = 1; j < a.length(); j++) {
                char c = a.charAt(j);
                if (FLAGS.indexOf(c) >= 0) {
                    switch (c) {
                        case 'n' -> throw new UsageException(EX_USAGE, "-n option not supported");
                        case 'i' -> dotEnds = false;
                        case 't' -> extract = true;
                        case 'I' -> mode = 'I';
                        default -> {
                            // -G, -U, -c, -m, -v, -x: ignored, as by Postfix
                        }
                    }
                    continue;
                }
                if (WITH_ARGUMENT.indexOf(c) < 0) {
                    throw new UsageException(EX_USAGE, "usage: sendmail [options]");
                }
                String v;
                if (j + 1 < a.length()) {
                    v = a.substring(j + 1);
                } else if (i < args.size()) {
                    v = args.get(i++);
                } else {
                    throw new UsageException(EX_USAGE, "usage: sendmail [options]");
                }
                switch (c) {
                    case 'f', 'r' -> sender = Optional.of(v);
                    case 'F' -> fullName = Optional.of(v);
                    case 'C' -> conf = Optional.of(v);
                    case 'o' -> {
                        if (v.startsWith("i")) {
                            dotEnds = false;
                        } else if (v.equals("A")) {
                            throw new UsageException(EX_USAGE, "-oA requires pathname");
                        }
                    }
                    case 'B' -> {
                        if (!v.equals("8BITMIME") && !v.equals("7BIT")) {
                            throw new UsageException(EX_USAGE, "-B option needs 8BITMIME or 7BIT");
                        }
                        body = Optional.of(v);
                    }
                    case 'N' -> {
                        List<String> n = notify(v);
                        if (n.isEmpty()) {
                            warnings.add("bad -N option value: '" + v + "' -- ignored");
                        }
                        notify = n;
                    }
                    case 'R' -> {
                        String r = v.toUpperCase(Locale.ROOT);
                        if (r.equals("FULL") || r.equals("HDRS")) {
                            ret = Optional.of(r);
                        } else {
                            warnings.add("bad -R option value -- ignored");
                        }
                    }
                    case 'V' -> {
                        if (v.length() > 100) {
                            warnings.add("too long -V option value -- ignored");
                        } else if (!v.chars().allMatch(ch -> ch == '\t' || ch >= ' ' && ch < 127)) {
                            warnings.add("bad syntax in -V option value -- ignored");
                        } else {
                            envid = Optional.of(v);
                        }
                    }
                    case 'X' -> throw new UsageException(v.startsWith("V") ? EX_UNAVAILABLE : EX_USAGE,
                            v.startsWith("V") ? "-XV (VERP) is not supported by Estafeta yet" : "unsupported: -X" + v.charAt(0));
                    case 'b' -> {
                        switch (v.charAt(0)) {
                            case 'm' -> mode = 'm';
                            case 'd', 'l', 'h', 'H', 'i', 'p', 's', 'v' -> mode = v.charAt(0);
                            default -> throw new UsageException(EX_USAGE, "unsupported: -b" + v.charAt(0));
                        }
                    }
                    case 'q' -> mode = 'q';
                    default -> {
                        // -A, -L, -O, -e, -h, -p: ignored, as by Postfix
                    }
                }
                break; // the rest of this argument was the option's value
            }
        }
        if (mode != 'm') {
            if (mode == 'h' || mode == 'H') {
                mode = 'm'; // Postfix ignores host status requests
            } else {
                throw new UsageException(EX_UNAVAILABLE, switch (mode) {
                    case 'p' -> "-bp (mailq) is not supported by this command; use estafeta postqueue -p";
                    case 'q' -> "-q (flush) is not supported by this command; use estafeta postqueue -f";
                    case 'i', 'I' -> "-bi (newaliases) is not supported: Estafeta has no aliases database";
                    default -> "-b" + mode + " is not supported by Estafeta yet";
                });
            }
        }
        return new SendmailOptions(sender, fullName, extract, dotEnds, notify, ret, envid, body, conf,
                List.copyOf(args.subList(i, args.size())), warnings);
    }

    /** Postfix's dsn_notify_mask: {@code never} alone, or some of {@code success,failure,delay}; empty when bad. */
    static List<String> notify(String v) {
        List<String> out = new ArrayList<>();
        for (String p : v.split("[,\\s]+")) {
            String u = p.toUpperCase(Locale.ROOT);
            if (!List.of("NEVER", "SUCCESS", "FAILURE", "DELAY").contains(u)) {
                return List.of();
            }
            if (!out.contains(u)) {
                out.add(u);
            }
        }
        if (out.contains("NEVER") && out.size() > 1) {
            return List.of();
        }
        return out;
    }
}
