package org.estafeta.sasl;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.estafeta.sasl.internal.CramMd5Secret;
import org.estafeta.sasl.internal.SaslDb;
import org.estafeta.sasl.internal.SaslDbFormatException;
import org.estafeta.sasl.internal.ScramSecret;

/**
 * {@code estafeta saslpasswd}: keeps the built-in SASL back end's password file, as Cyrus's {@code saslpasswd2}
 * (and {@code sasldblistusers2}) keep {@code /etc/sasldb2}.
 * <pre>
 * saslpasswd [-cdlp] [-f FILE] [-u REALM] [-m MECHANISMS] [-i ITERATIONS] [USER]
 * </pre>
 * <ul>
 * <li>{@code -c}: create the user when absent (else the user must exist); {@code -d}: delete the user;
 *     {@code -l}: list the users and the secrets each has.</li>
 * <li>{@code -p}: read the password as one line from standard input, without prompting (else it is asked
 *     twice on the terminal, not echoed).</li>
 * <li>{@code -f FILE}: the password file; when given more than once the last one counts, so the launcher passes
 *     {@code -f $estafeta_sasldb_path} first and an operator's own {@code -f} wins.</li>
 * <li>{@code -u REALM}: the user is {@code USER@REALM}, as clients in that realm
 *     ({@code smtpd_sasl_local_domain}) are looked up.</li>
 * <li>{@code -m MECHANISMS}: the secrets to store, comma-separated: {@code SCRAM-SHA-256} (always stored; PLAIN
 *     and LOGIN use it) and {@code CRAM-MD5} (password-equivalent, stored only when asked). Without {@code -m}
 *     a user keeps the kinds of secrets they had (a new user gets SCRAM-SHA-256 only).</li>
 * <li>{@code -i ITERATIONS}: the SCRAM iteration count, 4096 (the default) or more.</li>
 * </ul>
 * The file is replaced atomically (temporary file, fsync, rename); a new file gets mode 0600, an existing one
 * keeps its mode and group. Passwords are never printed. Errors go to {@code err} as
 * {@code saslpasswd: fatal: ...}; the exit code is 0 on success and 1 otherwise.
 *
 * Options may follow the user name, as with GNU getopt; {@code --} ends the options.
 *
 * <p>Not thread-safe; one call per command. Two commands run at once on one file may lose one's change.
 */
public final class SaslPasswd {
    private static final String PROGRAM = "saslpasswd";
    private static final String USAGE = "usage: " + PROGRAM
            + " [-cdlp] [-f FILE] [-u REALM] [-m SCRAM-SHA-256,CRAM-MD5] [-i ITERATIONS] [USER]";

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;

    private SaslPasswd(InputStream in, PrintStream out, PrintStream err) {
        this.in = in;
        this.out = out;
        this.err = err;
    }

    /** Postfix-style {@code fatal:} conditions. */
    private static final class Fatal extends Exception {
        private static final long serialVersionUID = 1L;

        Fatal(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Runs the command with {@code args} (options and user, without the command name).
     *
     * @return the exit code: 0 success, 1 failure
     */
    public static int run(List<String> args, InputStream in, PrintStream out, PrintStream err) {
        SaslPasswd c = new SaslPasswd(in, out, err);
        try {
            return c.execute(args);
        } catch (Fatal f) {
            out.flush();
            err.println(PROGRAM + ": fatal: " + f.getMessage());
            return 1;
        } catch (IOException e) {
            out.flush();
            err.println(PROGRAM + ": fatal: " + e.getMessage());
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int execute(List<String> args) throws Fatal, IOException {
        boolean create = false;
        boolean delete = false;
        boolean list = false;
        boolean pipe = false;
        String file = null;
        String realm = null;
        Boolean cram = null;
        int iterations = ScramSecret.DEFAULT_ITERATIONS;
        // options and operands in any order, as GNU getopt (which Cyrus's saslpasswd2 uses on Linux) allows
        List<String> rest = new java.util.ArrayList<>();
        boolean optionsEnd = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (optionsEnd || !a.startsWith("-") || a.length() == 1) {
                rest.add(a);
                continue;
            }
            if (a.equals("--")) {
                optionsEnd = true;
                continue;
            }
            for (int j = 1; j < a.length(); j++) {
                char o = a.charAt(j);
                switch (o) {
                    case 'c' -> create = true;
                    case 'd' -> delete = true;
                    case 'l' -> list = true;
                    case 'p' -> pipe = true;
                    case 'f', 'u', 'm', 'i' -> {
                        String v;
                        if (j + 1 < a.length()) {
                            v = a.substring(j + 1);
                        } else if (i + 1 < args.size()) {
                            v = args.get(++i);
                        } else {
                            throw new Fatal("option -" + o + " needs a value; " + USAGE);
                        }
                        j = a.length();
                        switch (o) {
                            case 'f' -> file = v;
                            case 'u' -> realm = v;
                            case 'm' -> cram = mechanisms(v);
                            default -> iterations = iterations(v);
                        }
                    }
                    default -> throw new Fatal("invalid option -" + o + "; " + USAGE);
                }
            }
        }
        if (file == null || file.isEmpty()) {
            throw new Fatal("no password file given (-f FILE)");
        }
        Path path = Path.of(file);
        if ((create ? 1 : 0) + (delete ? 1 : 0) + (list ? 1 : 0) > 1) {
            throw new Fatal("specify only one of -c, -d or -l");
        }
        if (list) {
            if (!rest.isEmpty()) {
                throw new Fatal("-l takes no user name; " + USAGE);
            }
            for (SaslDb.Entry e : read(path, false).entries()) {
                out.println(e.user() + ": " + SaslDb.SCRAM_SHA_256 + (e.cramMd5() != null ? " " + SaslDb.CRAM_MD5 : ""));
            }
            return 0;
        }
        if (rest.size() != 1) {
            throw new Fatal(USAGE);
        }
        String user = realm == null || realm.isEmpty() ? rest.get(0) : rest.get(0) + "@" + realm;
        String bad = SaslDb.invalidUserName(user);
        if (bad != null) {
            throw new Fatal(bad + ": \"" + user + "\"");
        }
        SaslDb db = read(path, create);
        if (delete) {
            if (db.get(user).isEmpty()) {
                throw new Fatal(user + ": user not found in " + path);
            }
            db.without(user).write(path);
            return 0;
        }
        if (!create && db.get(user).isEmpty()) {
            throw new Fatal(user + ": user not found in " + path + " (use -c to create it)");
        }
        boolean withCram = cram != null ? cram : db.get(user).map(e -> e.cramMd5() != null).orElse(false);
        char[] password = pipe ? readLine() : prompt();
        try {
            if (password.length == 0) {
                throw new Fatal("empty password");
            }
            String p = new String(password);
            ScramSecret scram;
            try {
                scram = ScramSecret.derive(p, iterations, new SecureRandom());
            } catch (IllegalArgumentException e) {
                throw new Fatal("the password is not allowed: " + e.getMessage());
            }
            CramMd5Secret cramSecret = null;
            if (withCram) {
                try {
                    cramSecret = CramMd5Secret.derive(p);
                } catch (NoClassDefFoundError e) {
                    throw new Fatal("CRAM-MD5 needs BouncyCastle (bcprov-jdk18on) on the class path: " + e.getMessage());
                }
            }
            db.with(new SaslDb.Entry(user, scram, cramSecret)).write(path);
        } finally {
            Arrays.fill(password, '\0');
        }
        return 0;
    }

    private static Boolean mechanisms(String v) throws Fatal {
        boolean cram = false;
        for (String m : v.split("[,\\s]+")) {
            switch (m.toUpperCase(Locale.ROOT)) {
                case SaslDb.SCRAM_SHA_256, "PLAIN", "LOGIN" -> {
                }
                case SaslDb.CRAM_MD5 -> cram = true;
                default -> throw new Fatal("-m: unknown mechanism \"" + m + "\"; use SCRAM-SHA-256 and/or CRAM-MD5");
            }
        }
        return cram;
    }

    private static int iterations(String v) throws Fatal {
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= ScramSecret.MIN_ITERATIONS && n <= ScramSecret.MAX_ITERATIONS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new Fatal("-i: iteration count must be a number from " + ScramSecret.MIN_ITERATIONS + " to "
                + ScramSecret.MAX_ITERATIONS);
    }

    private static SaslDb read(Path path, boolean mayBeAbsent) throws Fatal, IOException {
        try {
            return SaslDb.read(path);
        } catch (NoSuchFileException e) {
            if (mayBeAbsent) {
                return SaslDb.empty();
            }
            throw new Fatal(path + ": No such file or directory");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new Fatal(path + ": Permission denied");
        } catch (SaslDbFormatException e) {
            throw new Fatal(e.getMessage() + " (file left unchanged)");
        }
    }

    private char[] readLine() throws Fatal, IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line = r.readLine();
        if (line == null) {
            throw new Fatal("no password on standard input");
        }
        return line.toCharArray();
    }

    private char[] prompt() throws Fatal {
        Console console = System.console();
        if (console == null) {
            throw new Fatal("no terminal to ask for the password; use -p to read it from standard input");
        }
        char[] first = console.readPassword("Password: ");
        char[] again = console.readPassword("Again (for verification): ");
        if (first == null || again == null) {
            throw new Fatal("no password entered");
        }
        boolean same = Arrays.equals(first, again);
        Arrays.fill(again, '\0');
        if (!same) {
            Arrays.fill(first, '\0');
            throw new Fatal("passwords don't match");
        }
        return first;
    }
}
