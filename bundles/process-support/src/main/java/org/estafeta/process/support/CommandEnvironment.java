package org.estafeta.process.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What an external command finds around it, as Postfix's pipe(8) and spawn(8) set it up: the search path
 * {@value #PATH} and the variables of {@code export_environment}. Stateless; thread-safe; {@link #resolve(String)}
 * looks at the file system.
 */
public final class CommandEnvironment {
    /** Postfix's {@code _PATH_DEFPATH} on Linux: every command gets this search path. */
    public static final String PATH = "/usr/bin:/bin";

    private CommandEnvironment() {
    }

    /** The program as execvp finds it with {@link #PATH}; a name with a slash, or not found there, stays as it is. */
    public static String resolve(String command) {
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
     * {@code PATH} is not added: the caller sets it to {@link #PATH}.
     */
    public static Map<String, String> environment(String exportEnvironment) {
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
    public static List<String> splitList(String value) {
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
