package org.estafeta.master.internal;

import java.util.Map;
import java.util.Set;

/**
 * What becomes of each program that Postfix's master.cf can name. A master.cf entry is served by the
 * {@link org.estafeta.master.daemon.Daemon} registered under {@link #daemonName} when there is one; without one,
 * Postfix's own programs are accepted with one informational line ({@link #describeAbsent}), and any other
 * command waits for a bundle that provides it.
 */
final class PostfixPrograms {
    /** How an entry is treated while no Daemon serves it. */
    enum Kind {
        /** A daemon Estafeta has or plans (smtpd); inet entries count as starting until it is registered. */
        DAEMON,
        /** A delivery agent: qmgr hands mail to the Transport service named like the command. */
        TRANSPORT,
        /** Not needed in Estafeta: the work is done in-process. */
        IN_PROCESS,
        /** A Postfix program without a counterpart in Estafeta yet; the entry is ignored. */
        NO_COUNTERPART
    }

    /** Postfix program names whose Estafeta component has another name. */
    private static final Map<String, String> ALIASES = Map.of(
            "nqmgr", "qmgr",
            "oqmgr", "qmgr",
            "trivial-rewrite", "rewrite");

    /** Delivery agents: in Estafeta, Transport services with estafeta.transport=<command>. */
    private static final Set<String> TRANSPORTS = Set.of("smtp", "lmtp", "local", "virtual", "pipe", "error",
            "discard", "retry");

    private static final Map<String, String> IN_PROCESS = Map.of(
            "postlogd", "logging is done in-process by the maillog writer",
            "bounce", "the queue manager calls the bounce service directly",
            "cleanup", "smtpd and the bounce service call the cleanup service directly",
            "trivial-rewrite", "the queue manager calls the rewrite service directly",
            "rewrite", "the queue manager calls the rewrite service directly",
            "defer", "the queue manager calls the bounce service directly",
            "trace", "the queue manager calls the bounce service directly");

    /** Estafeta's own daemons (inet entries naming them count as starting until their bundle registers). */
    private static final Set<String> DAEMONS = Set.of("smtpd", "qmgr", "pickup", "spawn");

    /** Postfix's programs that master.cf can name (Postfix 3.x libexec), other than the ones above. */
    private static final Set<String> POSTFIX = Set.of("anvil", "bounce", "cleanup", "dnsblog", "flush", "pickup",
            "postscreen", "proxymap", "qmgr", "nqmgr", "oqmgr", "qmqpd", "scache", "showq", "spawn", "tlsmgr",
            "tlsproxy", "trivial-rewrite", "verify", "postlogd", "master", "local", "virtual", "smtp", "lmtp",
            "pipe", "error", "discard", "smtpd");

    private PostfixPrograms() {
    }

    /** The {@code estafeta.daemon} value that serves {@code command}. */
    static String daemonName(String command) {
        return ALIASES.getOrDefault(command, command);
    }

    static Kind kind(String command) {
        if (DAEMONS.contains(daemonName(command))) {
            return Kind.DAEMON;
        }
        if (TRANSPORTS.contains(command)) {
            return Kind.TRANSPORT;
        }
        if (IN_PROCESS.containsKey(command)) {
            return Kind.IN_PROCESS;
        }
        if (POSTFIX.contains(command)) {
            return Kind.NO_COUNTERPART;
        }
        return Kind.DAEMON; // a command of a third-party bundle: wait for it
    }

    /** The line said (once) and shown in {@code status} for an entry that no Daemon serves. */
    static String describeAbsent(String command) {
        String daemon = daemonName(command);
        switch (kind(command)) {
            case TRANSPORT:
                return "transport " + command + ": deliveries use the service estafeta.transport=" + command;
            case IN_PROCESS:
                return "not needed in Estafeta (command " + command + "): " + IN_PROCESS.get(command);
            case NO_COUNTERPART:
                return "no counterpart in Estafeta yet (command " + command + "); ignored";
            default:
                return "waiting for a bundle that registers estafeta.daemon=" + daemon;
        }
    }
}
