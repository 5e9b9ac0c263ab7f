package org.estafeta.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.launcher.log.Maillog;
import org.estafeta.queue.QueueAdmin;
import org.estafeta.queue.QueueCommands;
import org.estafeta.table.hash.PostmapCommand;

/**
 * The {@code estafeta} command. Every subcommand takes {@code -c CONFDIR} (default: the distribution's
 * {@code conf/}); the data directory is {@code $ESTAFETA_VAR} (the scripts set it) or {@code <distribution>/var}.
 *
 * <pre>
 * estafeta [-c DIR] [-f FEATURE] run|start|stop|status|reload|plugins
 * estafeta postconf [-c DIR] [-n|-d|-x] [name ...]
 * estafeta postmap|postalias [-c DIR] [-fiNnrsvw] [-d KEY] [-q KEY] [TYPE:]FILE ...
 * </pre>
 */
public final class Main {
    private static final String USAGE = """
            usage: estafeta [-c CONFDIR] [-f FEATURE] COMMAND [ARGS]
              run                     run the gateway in the foreground (logs to the console and the maillog)
              start                   start it in the background; returns once every listener accepts connections
              stop                    stop it (SIGTERM) and wait until it has exited
              status                  is it running? plus the state of each master.cf service
              reload                  read main.cf and master.cf again
              plugins                 installed bundles and the Estafeta services they provide
              postconf [-n|-d|-x] [name ...]   show parameters, as Postfix's postconf
              postmap [-firsw] [-d KEY] [-q KEY] [TYPE:]FILE ...   build an indexed table (FILE.db), query,
                                       list, add, delete, as Postfix's postmap (-q on other types: the gateway)
              postalias [options as postmap] [TYPE:]FILE ...      the same for aliases (name: value)
              postqueue -p | -f | -i ID | -s SITE     the queue listing (mailq); flush
              postsuper -d|-h|-H|-r ID|ALL [queue...]  delete, hold, release, requeue
              postcat [-e|-h|-b] -q ID ...     a queued message: envelope and content
              sendmail [-f SENDER] [-t] [-i] [-F NAME] [--] [RECIPIENT ...]   submit the message on standard input
              saslpasswd [-cdlp] [-u REALM] [-m MECHANISMS] [USER]   the built-in SASL back end's users
                                       ($estafeta_sasldb_path), as Cyrus's saslpasswd2 (-l lists them)
            Every command takes -c CONFDIR, the directory holding main.cf and master.cf.""";

    private final PrintStream out;
    private final PrintStream err;
    private final Path home;
    private final Path varDir;
    private Path confDir;
    /** Whether -c was given before the command (postconf then prints config_directory, as Postfix's -c does). */
    private boolean confDirGiven;
    private String feature;
    private String command = "estafeta";

    Main(PrintStream out, PrintStream err, Path home, Path varDir) {
        this.out = out;
        this.err = err;
        this.home = home;
        this.varDir = varDir;
        this.confDir = home.resolve("conf");
        String f = System.getenv("ESTAFETA_FEATURE");
        this.feature = f == null || f.isBlank() ? Gateway.DEFAULT_FEATURE : f;
    }

    public static void main(String[] args) {
        Path home;
        try {
            home = Gateway.home(Map.of());
        } catch (GatewayException e) {
            System.err.println("estafeta: fatal: " + e.getMessage());
            System.exit(1);
            return;
        }
        String var = System.getProperty("estafeta.var");
        if (var == null || var.isBlank()) {
            var = System.getenv("ESTAFETA_VAR");
        }
        Path varDir = var == null || var.isBlank() ? home.resolve("var") : Path.of(var);
        int status = new Main(System.out, System.err, home, varDir.toAbsolutePath().normalize()).execute(args);
        System.out.flush();
        System.exit(status);
    }

    int execute(String[] argv) {
        List<String> args = new ArrayList<>(Arrays.asList(argv));
        // options before the command
        while (!args.isEmpty() && args.get(0).startsWith("-")) {
            String opt = args.remove(0);
            if ((opt.equals("-c") || opt.equals("-f")) && !args.isEmpty()) {
                String v = args.remove(0);
                if (opt.equals("-c")) {
                    confDir = Path.of(v);
                    confDirGiven = true;
                } else {
                    feature = v;
                }
            } else if (opt.equals("-h") || opt.equals("--help")) {
                out.println(USAGE);
                return 0;
            } else {
                err.println("estafeta: fatal: unknown option " + opt);
                err.println(USAGE);
                return 1;
            }
        }
        if (args.isEmpty()) {
            err.println(USAGE);
            return 1;
        }
        command = args.remove(0);
        if (command.equals("help")) {
            out.println(USAGE);
            return 0;
        }
        if (!command.equals("run")) {
            Maillog.command("estafeta", command);
        }
        try {
            switch (command) {
                case "postconf":
                    if (confDirGiven) {
                        args.addAll(0, List.of("-c", confDir.toString()));
                    }
                    return ConfigBridge.postconf(args.toArray(String[]::new), out, err, confDir.toAbsolutePath(),
                            varDir);
                case "postqueue":
                case "postsuper":
                    return queueCommand(confOption(args));
                case "postmap":
                case "postalias":
                    return postmap(confOption(args));
                case "postcat":
                    return postcat(confOption(args));
                case "saslpasswd":
                    // -c is saslpasswd2's "create" here; the configuration directory comes before the command
                    return saslpasswd(args);
                case "sendmail":
                    return org.estafeta.pickup.Sendmail.run(args, dir -> {
                        dir.ifPresent(d -> confDir = d);
                        return locateGateway().queueDirectory();
                    }, System.in, err);
                default:
                    break;
            }
            List<String> rest = commandOptions(args);
            return switch (command) {
                case "run" -> run(rest);
                case "start" -> start(rest);
                case "stop" -> stop(rest);
                case "status" -> status(rest);
                case "reload", "plugins" -> control(command, rest);
                default -> {
                    err.println("estafeta: fatal: unknown command: " + command);
                    err.println(USAGE);
                    yield 1;
                }
            };
        } catch (GatewayException e) {
            return fatal(e.getMessage());
        }
    }

    /** Takes {@code -c DIR} and {@code -f FEATURE} out of a command's arguments; returns the rest. */
    private List<String> commandOptions(List<String> args) throws GatewayException {
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-c") || a.equals("-f")) {
                if (i + 1 >= args.size()) {
                    throw new GatewayException("option " + a + " needs an argument");
                }
                String v = args.get(++i);
                if (a.equals("-c")) {
                    confDir = Path.of(v);
                } else {
                    feature = v;
                }
            } else {
                rest.add(a);
            }
        }
        return rest;
    }

    /** Takes only {@code -c DIR} out of the arguments (postqueue's {@code -f} is its own). */
    private List<String> confOption(List<String> args) throws GatewayException {
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("-c")) {
                if (i + 1 >= args.size()) {
                    throw new GatewayException("option -c needs an argument");
                }
                confDir = Path.of(args.get(++i));
            } else {
                rest.add(args.get(i));
            }
        }
        return rest;
    }

    /** saslpasswd: {@link org.estafeta.sasl.SaslPasswd} on {@code estafeta_sasldb_path} (an explicit -f wins). */
    private int saslpasswd(List<String> args) throws GatewayException {
        Settings s = locateGateway();
        List<String> all = new ArrayList<>(List.of("-f", s.snapshot().value("estafeta_sasldb_path")));
        all.addAll(args);
        return org.estafeta.sasl.SaslPasswd.run(all, System.in, out, err);
    }

    /**
     * postqueue and postsuper: through the running gateway's control socket, or on the files when it is stopped
     * (the same {@link QueueCommands} code either way). Messages as Postfix's: {@code postsuper: ID: removed}.
     */
    private int queueCommand(List<String> args) throws GatewayException {
        Settings s = locateGateway();
        if (PidLock.isLocked(s.pidFile()) && ControlClient.exists(s.controlSocket())) {
            for (String a : args) {
                if (a.isEmpty() || a.chars().anyMatch(Character::isWhitespace)) {
                    err.println(command + ": fatal: the control protocol cannot carry an argument with white space: \""
                            + a + "\"");
                    return 1;
                }
            }
            ControlClient.Answer a;
            try {
                a = ControlClient.request(s.controlSocket(),
                        (command + " " + String.join(" ", args)).strip(), Duration.ofSeconds(300));
            } catch (IOException e) {
                err.println(command + ": fatal: control socket " + s.controlSocket() + ": " + e.getMessage());
                return QueueCommands.EX_UNAVAILABLE;
            }
            for (String line : a.lines()) {
                if (line.startsWith("2 ")) {
                    err.println(line.substring(2));
                } else {
                    out.println(line.startsWith("1 ") ? line.substring(2) : line);
                }
            }
            return a.exit();
        }
        QueueAdmin admin = offlineQueue(s);
        if (admin == null) {
            return 1;
        }
        QueueCommands.Output o;
        if (command.equals("postqueue")) {
            if (args.contains("-p")) {
                err.println("postqueue: warning: Mail system is down -- accessing queue directly"
                        + " (Connect to the Estafeta control socket " + s.controlSocket() + ": not running)");
            }
            o = QueueCommands.postqueue(args, admin, java.time.ZoneId.systemDefault());
        } else {
            o = QueueCommands.postsuper(args, admin);
        }
        print(o);
        return o.exit();
    }

    private QueueAdmin offlineQueue(Settings s) {
        if (!Files.isDirectory(s.queueDirectory())) {
            err.println(command + ": fatal: chdir " + s.queueDirectory() + ": No such file or directory");
            return null;
        }
        return new QueueAdmin(s.queueDirectory());
    }

    private void print(QueueCommands.Output o) {
        for (QueueCommands.Line l : o.lines()) {
            if (l.stderr()) {
                out.flush();
                err.println(l.text());
            } else {
                out.println(l.text());
            }
        }
        out.flush();
    }

    /**
     * postcat -q ID: reads the queue file itself, running gateway or not, as Postfix's postcat does (a committed
     * file is never changed but for the recipient status bytes, and moves are atomic renames).
     */
    private int postcat(List<String> args) throws GatewayException {
        Settings s = locateGateway();
        QueueAdmin admin = offlineQueue(s);
        if (admin == null) {
            return 1;
        }
        QueueCommands.Output o;
        try {
            o = QueueCommands.postcat(args, admin, java.time.ZoneId.systemDefault(), out);
        } catch (IOException e) {
            out.flush();
            err.println("postcat: fatal: " + e.getMessage());
            return 1;
        }
        print(o);
        return o.exit();
    }

    private int fatal(String message) {
        err.println("estafeta/" + command + ": fatal: " + message);
        return 1;
    }

    private void noArguments(List<String> rest) throws GatewayException {
        if (!rest.isEmpty()) {
            throw new GatewayException("unexpected arguments: " + String.join(" ", rest));
        }
    }

    // ---- run -------------------------------------------------------------------------------------------------

    private int run(List<String> rest) throws GatewayException {
        noArguments(rest);
        boolean background = Boolean.getBoolean("estafeta.background");
        Gateway g = Gateway.start(confDir, varDir, feature,
                background ? Map.of(Gateway.LOG_CONSOLE_PROPERTY, "false") : Map.of());
        g.generatedWebConsolePassword()
                .ifPresent(pw -> showPassword(g.webConsoleUrl(), g.webConsoleUser(), pw, g.dataDirectory()));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (g.isRunning()) {
                org.slf4j.LoggerFactory.getLogger("master").info("terminating on signal 15");
                g.stop();
            }
        }, "estafeta-shutdown"));
        try {
            g.awaitStop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private void showPassword(String url, String user, String password, Path dataDir) {
        out.println("estafeta/" + command + ": web console " + url + " user " + user + " password " + password);
        out.println("estafeta/" + command + ": this password is shown only once; only its hash is kept, in "
                + dataDir.resolve(WebConsoleCredentials.HASH_FILE)
                + " (delete that file, or set estafeta_webconsole_password, to change it)");
        out.flush();
    }

    // ---- start / stop / status -------------------------------------------------------------------------------

    private int start(List<String> rest) throws GatewayException {
        noArguments(rest);
        Settings s = Settings.read(confDir, varDir);
        Path home = this.home;
        Feature f = Feature.load(home.resolve("features"), feature);
        if (PidLock.isLocked(s.pidFile())) {
            return fatal("the Estafeta mail system is already running"
                    + PidLock.readPid(s.pidFile()).map(p -> " (pid " + p + ")").orElse(""));
        }
        if (f.entries().stream().anyMatch(e -> e.artifactId().equals("org.apache.felix.webconsole"))) {
            try {
                WebConsoleCredentials.Credentials c = WebConsoleCredentials.resolve(s.webconsoleUser(),
                        s.webconsolePassword(), s.dataDirectory());
                c.generatedPassword().ifPresent(pw -> showPassword("http://" + s.webconsoleHost() + ":"
                        + s.webconsolePort() + "/system/console", c.user(), pw, s.dataDirectory()));
            } catch (IOException e) {
                return fatal("web console password: " + e.getMessage());
            }
        }
        Path maillog = s.maillogFile();
        long offset;
        Process child;
        try {
            Files.createDirectories(maillog.toAbsolutePath().getParent());
            offset = Files.exists(maillog) ? Files.size(maillog) : 0;
            List<String> cmd = new ArrayList<>();
            if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
                cmd.add("/usr/bin/setsid"); // detach from the terminal's session
            }
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (!a.startsWith("-Destafeta.background=") && !a.startsWith("-agentlib")) {
                    cmd.add(a);
                }
            }
            cmd.add("-D" + Gateway.HOME_PROPERTY + "=" + home);
            cmd.add("-Destafeta.var=" + varDir);
            cmd.add("-Destafeta.background=true");
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(Main.class.getName());
            cmd.addAll(List.of("-c", confDir.toAbsolutePath().toString(), "-f", feature, "run"));
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(maillog.toFile()))
                    .redirectError(ProcessBuilder.Redirect.appendTo(maillog.toFile()));
            out.println("estafeta/start: starting the Estafeta mail system");
            out.flush();
            child = pb.start();
        } catch (IOException e) {
            return fatal("cannot start the gateway process: " + e.getMessage());
        }
        long timeout = Long.getLong("estafeta.start.timeout", envLong("ESTAFETA_START_TIMEOUT", 90));
        long deadline = System.nanoTime() + Duration.ofSeconds(timeout).toNanos();
        ControlClient.Answer last = null;
        while (System.nanoTime() < deadline) {
            if (!child.isAlive()) {
                printLogTail(maillog, offset);
                return fatal("the gateway exited with status " + child.exitValue() + " while starting; see "
                        + maillog);
            }
            if (ControlClient.exists(s.controlSocket())) {
                try {
                    ControlClient.Answer a = ControlClient.request(s.controlSocket(), "status",
                            Duration.ofSeconds(10));
                    last = a;
                    if (a.exit() == 0) {
                        a.lines().forEach(out::println);
                        return 0;
                    }
                    if (a.exit() != 2) {
                        a.lines().forEach(err::println);
                        stopChild(child);
                        return fatal("the listeners did not start (status exit " + a.exit()
                                + "); the gateway was stopped; see " + maillog);
                    }
                } catch (IOException e) {
                    // not answering yet
                }
            }
            sleep(250);
        }
        if (last != null) {
            last.lines().forEach(err::println);
        }
        stopChild(child);
        return fatal("the listeners did not accept connections within " + timeout + "s; the gateway was stopped; see "
                + maillog);
    }

    private void stopChild(Process child) {
        child.destroy();
        try {
            if (!child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void printLogTail(Path maillog, long offset) {
        try (RandomAccessFile f = new RandomAccessFile(maillog.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(offset, len - 4000);
            byte[] buf = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(buf);
            String text = new String(buf, StandardCharsets.UTF_8);
            text.lines().forEach(err::println);
        } catch (IOException e) {
            // nothing to show
        }
    }

    /** Finds the running gateway of {@code confDir}, even when its main.cf is broken now (with a warning). */
    private Settings locateGateway() throws GatewayException {
        return Settings.locate(confDir, varDir, problem -> err.println("estafeta/" + command + ": warning: " + problem));
    }

    private int stop(List<String> rest) throws GatewayException {
        noArguments(rest);
        Settings s = locateGateway();
        if (!PidLock.isLocked(s.pidFile())) {
            return fatal("the Estafeta mail system is not running");
        }
        Optional<Long> pid = PidLock.readPid(s.pidFile());
        Optional<ProcessHandle> ph = pid.flatMap(ProcessHandle::of);
        if (ph.isEmpty()) {
            return fatal("the Estafeta mail system is running, but " + s.pidFile() + " names no live process");
        }
        out.println("estafeta/stop: stopping the Estafeta mail system");
        out.flush();
        ph.get().destroy(); // SIGTERM
        long deadline = System.nanoTime() + Duration.ofSeconds(envLong("ESTAFETA_STOP_TIMEOUT", 120)).toNanos();
        while (System.nanoTime() < deadline) {
            if (!ph.get().isAlive() || !PidLock.isLocked(s.pidFile())) {
                while (ph.get().isAlive() && System.nanoTime() < deadline) {
                    sleep(100);
                }
                return 0;
            }
            sleep(100);
        }
        return fatal("the gateway (pid " + pid.get() + ") did not exit in time");
    }

    private int status(List<String> rest) throws GatewayException {
        noArguments(rest);
        Settings s = locateGateway();
        if (!PidLock.isLocked(s.pidFile())) {
            err.println("estafeta/status: the Estafeta mail system is not running");
            return 1;
        }
        String pid = PidLock.readPid(s.pidFile()).map(String::valueOf).orElse("?");
        try {
            ControlClient.Answer a = ControlClient.request(s.controlSocket(), "status", Duration.ofSeconds(30));
            a.lines().forEach(out::println);
            return a.exit();
        } catch (IOException e) {
            out.println("the Estafeta mail system is running: PID: " + pid);
            err.println("estafeta/status: warning: control socket " + s.controlSocket() + " does not answer: "
                    + e.getMessage());
            return 1;
        }
    }

    // ---- control socket commands -----------------------------------------------------------------------------

    private int control(String request, List<String> rest) throws GatewayException {
        noArguments(rest);
        return send(request);
    }

    private int send(String request) throws GatewayException {
        Settings s = locateGateway();
        if (!PidLock.isLocked(s.pidFile()) || !ControlClient.exists(s.controlSocket())) {
            return fatal("the Estafeta mail system is not running");
        }
        try {
            ControlClient.Answer a = ControlClient.request(s.controlSocket(), request, Duration.ofSeconds(60));
            a.lines().forEach(out::println);
            return a.exit();
        } catch (IOException e) {
            return fatal("control socket " + s.controlSocket() + ": " + e.getMessage());
        }
    }

    /**
     * postmap and postalias ({@link PostmapCommand}): indexed tables (hash:, btree:, cdb:, lmdb:) are built and read
     * from their files, gateway running or not, as Postfix's commands do; {@code -q} on a table of another type asks
     * the running gateway.
     */
    private int postmap(List<String> args) {
        Settings s = null;
        try {
            s = locateGateway();
        } catch (GatewayException unreadable) {
            // no readable main.cf: Postfix's defaults, and no gateway to ask
        }
        String type = s == null ? "hash"
                : s.snapshot().get("default_database_type").map(String::trim).filter(v -> !v.isEmpty()).orElse("hash");
        return PostmapCommand.run(command, args, type, System.in, out, err, java.time.Clock.systemUTC(),
                this::gatewayLookup);
    }

    /** {@code postmap -q KEY TYPE:NAME} for a type the command does not read itself: a lookup in the running gateway. */
    private int gatewayLookup(String key, String map) {
        if (key.isEmpty() || key.chars().anyMatch(ch -> ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')) {
            return fatal("the control protocol cannot carry a key with white space: \"" + key + "\"");
        }
        int colon = map.indexOf(':');
        String name = map.substring(colon + 1);
        // The gateway resolves names from its own directory; a relative file name means the caller's.
        if (!name.startsWith("/") && Files.exists(Path.of(name))) {
            name = Path.of(name).toAbsolutePath().normalize().toString();
        }
        try {
            return send("lookup " + key + " " + map.substring(0, colon) + ":" + name);
        } catch (GatewayException e) {
            return fatal(e.getMessage());
        }
    }

    private static long envLong(String name, long fallback) {
        String v = System.getenv(name);
        try {
            return v == null ? fallback : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
