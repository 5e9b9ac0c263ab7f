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
import org.estafeta.process.support.CannotSwitchUserException;
import org.estafeta.process.support.CommandEnvironment;
import org.estafeta.process.support.SetprivCommand;
import org.estafeta.process.support.UnixAccount;
import org.estafeta.process.support.UnknownAccountException;

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
        Map<String, String> env = new HashMap<>(CommandEnvironment.environment(
                config.get("export_environment").orElse(DEFAULT_EXPORT_ENVIRONMENT)));
        env.put("PATH", CommandEnvironment.PATH);
        String queue = config.get("queue_directory").orElse("");
        Path directory = !queue.isEmpty() && Files.isDirectory(Path.of(queue)) ? Path.of(queue) : null;
        return new SpawnSettings(attr.argv().get(0), account, commandLine(account, attr.argv()), env, directory,
                timeLimit, processLimit);
    }

    /** The account to run as; refused when it has root's, the mail owner's, or group 0's privileges, as spawn(8) does. */
    private static UnixAccount account(SpawnAttributes attr, ConfigSnapshot config) throws IOException {
        UnixAccount a;
        try {
            a = UnixAccount.lookup(attr.user(), attr.group());
        } catch (UnknownAccountException e) {
            // spawn(8)'s words
            throw new IllegalArgumentException((e.group() ? "unknown group name: " : "unknown user name: ") + e.name());
        }
        if (a.uid() == 0) {
            throw new IllegalArgumentException("request to deliver as root");
        }
        String owner = config.get("mail_owner").orElse("");
        if (!owner.isEmpty()) {
            UnixAccount ownerAccount = null;
            try {
                ownerAccount = UnixAccount.lookup(owner, null);
            } catch (UnknownAccountException | IllegalArgumentException e) {
                // no such account (or an unreadable entry): nobody can be it
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
        List<String> program = new ArrayList<>(argv);
        program.set(0, CommandEnvironment.resolve(argv.get(0)));
        try {
            return SetprivCommand.commandLine(account, program);
        } catch (CannotSwitchUserException e) {
            throw new IllegalArgumentException("cannot run commands as user " + account.user() + ": " + e.getMessage());
        }
    }
}
