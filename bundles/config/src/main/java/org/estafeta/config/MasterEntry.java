package org.estafeta.config;

import java.util.List;
import java.util.Map;

/**
 * One master.cf service entry: the eight columns, then {@code -o name=value} overrides and the remaining
 * command arguments, which may continue on lines that start with white space.
 *
 * @param service service name; for {@code inet} entries, {@code port} or {@code host:port}
 * @param type {@code inet}, {@code unix}, {@code unix-dgram}, {@code fifo} or {@code pass}
 * @param privateAccess column 3 as written ({@code y}, {@code n} or {@code -})
 * @param unprivileged column 4 as written
 * @param chroot column 5 as written
 * @param wakeup column 6 as written ({@code 60}, {@code 1000?}, {@code -})
 * @param maxproc column 7 as written ({@code -} means {@code $default_process_limit})
 * @param command the program name ({@code smtpd}, {@code qmgr}, {@code pipe} …)
 * @param overrides the {@code -o name=value} pairs in order, values unexpanded
 * @param arguments the other command arguments in order ({@code flags=R}, {@code argv=/bin/x}, {@code -v} …)
 * @param file the master.cf file it came from
 * @param line the line number the entry starts on
 */
public record MasterEntry(String service, String type, String privateAccess, String unprivileged, String chroot,
        String wakeup, String maxproc, String command, Map<String, String> overrides, List<String> arguments,
        String file, int line) {

    public MasterEntry {
        overrides = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(overrides));
        arguments = List.copyOf(arguments);
    }

    /** {@code service/type}, the name Postfix uses for an entry (for example {@code smtp/inet}). */
    public String id() {
        return service + "/" + type;
    }
}
