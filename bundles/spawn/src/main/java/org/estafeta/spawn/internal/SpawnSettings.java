package org.estafeta.spawn.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigValues;
import org.estafeta.config.MasterEntry;

/**
 * Everything one spawn entry needs to run its command, read once when the entry starts (as spawn(8) reads its
 * attributes once): the account, the process command line (through {@code setpriv} when the gateway runs as root),
 * the environment, the working directory, the time limit and the process limit. Built on the caller's thread; the
 * account lookup may block for a few seconds.
 *
 * @param argv0 the program as {@code argv=} names it, for log lines
 * @param account the account of {@code user=}
 * @param command the command line to start
 * @param environment the complete environment of the command
 * @param directory the working directory, or null for the gateway's own
 * @param timeLimitSeconds {@code <service>_time_limit}, default {@code $command_time_limit}
 * @param processLimit the maxproc column ({@code -}: {@code $default_process_limit}); 0: no limit
 */
record SpawnSettings(String argv0, UnixAccount account, List<String> command, Map<String, String> environment,
        Path directory, long timeLimitSeconds, int processLimit) {

    /** Postfix's {@code _PATH_DEFPATH} on Linux: every command gets this search path. */
    static final String PATH = "/usr/bin:/bin";
    static final String DEFAULT_COMMAND_TIME_LIMIT = "1000s";
    static final String DEFAULT_EXPORT_ENVIRONMENT = "TZ MAIL_CONFIG LANG";
    static final String DEFAULT_PROCESS_LIMIT = "100";

    SpawnSettings {
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
    }

    /**
     * Reads the entry.
     *
     * @throws IllegalArgumentException with spawn(8)'s fatal text when an attribute, the account or a parameter is
     *         unusable
     * @throws IOException when the account cannot be looked up
     */
    static SpawnSettings from(MasterEntry entry, ConfigSnapshot config) throws IOException {
        SpawnAttributes attr = SpawnAttributes.parse(entry.arguments());
        UnixAccount account = account(attr, config);
        long timeLimit = timeLimit(entry.service(), config);
        int processLimit = processLimit(entry, config);
        Map<String, String> env = new HashMap<>(environment(
                config.get("export_environment").orElse(DEFAULT_EXPORT_ENVIRONMENT)));
        env.put("PATH", PATH);
        String queue = config.get("queue_directory").orElse("");
        Path directory = !queue.isEmpty() && Files.isDirectory(Path.of(queue)) ? Path.of(queue) : null;
        return new SpawnSettings(attr.argv().get(0), account, commandLine(account, attr.argv()), env, directory,
                timeLimit, processLimit);
    }

    /** The account to run as; refused when it has root's, the mail owner's, or group 0's privileges, as spawn(8) does. */
    private static UnixAccount account(SpawnAttributes attr, ConfigSnapshot config) throws IOException {
        UnixAccount a = UnixAccount.lookup(attr.user(), attr.group());
        if (a.uid() == 0) {
            throw new IllegalArgumentException("request to deliver as root");
        }
        String owner = config.get("mail_owner").orElse("");
        if (!owner.isEmpty()) {
            UnixAccount ownerAccount = null;
            try {
                ownerAccount = UnixAccount.lookup(owner, null);
            } catch (IllegalArgumentException e) {
                // no such account: nobody can be it
            }
            if (ownerAccount != null && ownerAccount.uid() == a.uid()) {
                throw new IllegalArgumentException("request to deliver as mail system owner");
            }
            if (ownerAccount != null && ownerAccount.gid() == a.gid()) {
                throw new IllegalArgumentException("request to use mail system owner group id " + a.gid());
            }
        }
        if (a.gid() == 0) {
            throw new IllegalArgumentException("request to use privileged group id 0");
        }
        return a;
    }

    /** {@code <service>_time_limit} when set (main.cf or {@code -o}), else {@code command_time_limit}; at least 1 s. */
    static long timeLimit(String service, ConfigSnapshot config) {
        String name = service + "_time_limit";
        String value = config.get(name).orElse("");
        if (value.isEmpty()) {
            name = "command_time_limit";
            value = config.get(name).orElse(DEFAULT_COMMAND_TIME_LIMIT);
        }
        long seconds = ConfigValues.seconds(name, value, 's');
        if (seconds < 1) {
            throw new IllegalArgumentException("invalid " + name + " parameter value " + value + " < 1s");
        }
        return seconds;
    }

    /** The maxproc column: a number, or {@code -} for {@code default_process_limit}. */
    static int processLimit(MasterEntry entry, ConfigSnapshot config) {
        String column = entry.maxproc().strip();
        String value = column.equals("-") ? config.get("default_process_limit").orElse(DEFAULT_PROCESS_LIMIT) : column;
        if (!value.matches("\\d{1,9}")) {
            throw new IllegalArgumentException("bad process limit \"" + value + "\" in master.cf entry " + entry.id());
        }
        return Integer.parseInt(value);
    }

    /** The command line to start: through setpriv when the gateway runs as root, as is when it already is that user. */
    private static List<String> commandLine(UnixAccount account, List<String> argv) throws IOException {
        List<String> cmd = new ArrayList<>();
        int self = UnixAccount.currentUid();
        if (self == 0) {
            Path setpriv = UnixAccount.setpriv();
            if (setpriv == null) {
                throw new IllegalArgumentException("cannot run commands as user " + account.user()
                        + ": util-linux's setpriv is not installed");
            }
            cmd.addAll(List.of(setpriv.toString(), "--reuid=" + account.uid(), "--regid=" + account.gid(),
                    "--init-groups", "--"));
        } else if (self != account.uid()) {
            throw new IllegalArgumentException("cannot run commands as user " + account.user()
                    + ": the gateway does not run as root");
        }
        cmd.add(resolve(argv.get(0)));
        cmd.addAll(argv.subList(1, argv.size()));
        return cmd;
    }

    /** The program as execvp finds it with {@link #PATH}; a name not found there stays as it is. */
    static String resolve(String command) {
        if (command.indexOf('/') >= 0) {
            return command;
        }
        for (String dir : PATH.split(":")) {
            Path p = Path.of(dir, command);
            if (Files.isRegularFile(p)) {
                return p.toString();
            }
        }
        return command;
    }

    /**
     * The command's environment from export_environment: {@code NAME} passes the gateway's own value when it has
     * one, {@code NAME=value} sets it; items are separated by white space or commas, {@code { }} groups one.
     */
    static Map<String, String> environment(String exportEnvironment) {
        Map<String, String> env = new HashMap<>();
        for (String item : splitList(exportEnvironment)) {
            int eq = item.indexOf('=');
            if (eq > 0) {
                env.put(item.substring(0, eq).strip(), item.substring(eq + 1).strip());
            } else if (System.getenv(item) != null) {
                env.put(item, System.getenv(item));
            }
        }
        return env;
    }

    /** Postfix's parameter list syntax: white space or commas between items, {@code { }} around one with either. */
    static List<String> splitList(String value) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = value.length();
        while (i < n) {
            char c = value.charAt(i);
            if (Character.isWhitespace(c) || c == ',') {
                i++;
            } else if (c == '{') {
                int level = 0;
                int j = i;
                for (; j < n; j++) {
                    level += value.charAt(j) == '{' ? 1 : value.charAt(j) == '}' ? -1 : 0;
                    if (level == 0) {
                        break;
                    }
                }
                out.add(value.substring(i + 1, Math.min(j, n)).strip());
                i = j + 1;
            } else {
                int j = i;
                while (j < n && !Character.isWhitespace(value.charAt(j)) && value.charAt(j) != ',') {
                    j++;
                }
                out.add(value.substring(i, j));
                i = j;
            }
        }
        return out;
    }
}
