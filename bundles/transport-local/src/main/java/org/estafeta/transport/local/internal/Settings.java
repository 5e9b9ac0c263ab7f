package org.estafeta.transport.local.internal;

import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.config.ConfigValues;

/**
 * The main.cf parameters of one local or virtual delivery, read once per request, with Postfix's defaults when the
 * context has no value (a context without the configuration bundle's built-ins, as in tests).
 */
record Settings(long mailboxSizeLimit, String homeMailbox, String spoolDirectory, String mailboxCommand,
        List<String> forwardPath, Set<String> commandsAllowed, Set<String> filesAllowed, String recipientDelimiter,
        String defaultPrivs, boolean ownerRequestSpecial, long commandTimeLimit, String myorigin, List<String> localDomains,
        List<String> exportEnvironment, String mailboxTransport, String fallbackTransport, String luserRelay) {

    /**
     * Postfix's start-up check of local(8) and virtual(8): a size limit smaller than message_size_limit is a fatal
     * configuration error. Returns the fatal text, or null.
     */
    static String sizeLimitProblem(PluginContext c, String limitName, String fallback) {
        long limit = ConfigValues.integer(limitName, c.parameter(limitName).orElse(fallback));
        long message = ConfigValues.integer("message_size_limit", c.parameter("message_size_limit").orElse("10240000"));
        if (limit > 0 && message <= 0) {
            return "configuration error: " + limitName + " is limited but message_size_limit is unlimited";
        }
        if (limit > 0 && limit < message) {
            return "configuration error: " + limitName + " is smaller than message_size_limit";
        }
        return null;
    }

    /** @throws IllegalArgumentException with Postfix's words for a value that does not parse */
    static Settings local(PluginContext c) {
        String myhostname = p(c, "myhostname", "localhost");
        List<String> domains = new java.util.ArrayList<>();
        for (String d : ConfigValues.list(p(c, "mydestination", myhostname + ", localhost"))) {
            domains.add(d.toLowerCase(Locale.ROOT));
        }
        domains.add(myhostname.toLowerCase(Locale.ROOT));
        return new Settings(
                ConfigValues.integer("mailbox_size_limit", p(c, "mailbox_size_limit", "51200000")),
                p(c, "home_mailbox", ""),
                p(c, "mail_spool_directory", "/var/mail"),
                p(c, "mailbox_command", ""),
                ConfigValues.list(p(c, "forward_path", "$home/.forward${recipient_delimiter}${extension}, $home/.forward")),
                classes(p(c, "allow_mail_to_commands", "alias, forward")),
                classes(p(c, "allow_mail_to_files", "alias, forward")),
                p(c, "recipient_delimiter", ""),
                p(c, "default_privs", "nobody"),
                ConfigValues.bool("owner_request_special", p(c, "owner_request_special", "yes")),
                ConfigValues.seconds("command_time_limit", p(c, "command_time_limit", "1000s"), 's'),
                p(c, "myorigin", myhostname),
                List.copyOf(domains),
                ConfigValues.list(p(c, "export_environment", "TZ MAIL_CONFIG LANG")),
                p(c, "mailbox_transport", "").strip(),
                p(c, "fallback_transport", "").strip(),
                p(c, "luser_relay", "").strip());
    }

    /** Whether a |command or /file target found through {@code how} (alias, forward, include) is allowed. */
    static boolean allows(Set<String> classes, String how) {
        return classes.contains(how);
    }

    private static Set<String> classes(String value) {
        Set<String> out = new java.util.HashSet<>();
        for (String s : ConfigValues.list(value)) {
            out.add(s.toLowerCase(Locale.ROOT));
        }
        return Set.copyOf(out);
    }

    static String p(PluginContext c, String name, String fallback) {
        return c.parameter(name).orElse(fallback);
    }
}
