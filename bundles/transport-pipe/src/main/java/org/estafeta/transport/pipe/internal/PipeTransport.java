package org.estafeta.transport.pipe.internal;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Header;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.Transport;
import org.estafeta.config.ConfigValues;
import org.estafeta.process.support.CannotSwitchUserException;
import org.estafeta.process.support.CommandEnvironment;
import org.estafeta.process.support.SetprivCommand;
import org.estafeta.process.support.UnixAccount;
import org.estafeta.process.support.UnknownAccountException;
import org.osgi.service.component.annotations.Component;

/**
 * The {@code pipe} transport, Postfix's pipe(8): for each delivery request, runs the command of the master.cf entry
 * (for example {@code filtro unix - n n - - pipe flags=Rq user=filtro argv=/usr/local/bin/filtro -f ${sender} --
 * ${recipient}}) without a shell, as the entry's user, with the message on its standard input, and maps its exit
 * status to delivered, deferred or bounced for every recipient of the batch.
 *
 * <p>The command runs under {@code <service>_time_limit} (default {@code $command_time_limit}), with the environment
 * of {@code export_environment} and {@code PATH=/usr/bin:/bin}, in {@code directory=} or else
 * {@code $queue_directory}. Java cannot change user, so the command is started through util-linux's
 * {@code setpriv}; {@code user=root} (and the mail system owner, and group ID 0) are refused as Postfix refuses them.
 * A master.cf entry that cannot be run as written defers the mail with {@code 4.3.5} and a warning.
 */
@Component(property = Transport.NAME + "=pipe")
public final class PipeTransport implements Transport {
    @Override
    public List<RecipientResult> deliver(DeliveryRequest request, PluginContext context) {
        String service = request.service().isEmpty() ? "pipe" : request.service();
        Verdict verdict;
        try {
            verdict = run(request, context, service);
        } catch (PipeConfigException e) {
            context.logger().log(Level.WARNING, "master.cf service " + service + ": " + e.getMessage());
            verdict = Verdict.deferred("4.3.5", "mail system configuration error: " + e.getMessage());
        } catch (IOException e) {
            verdict = Verdict.deferred("4.3.0", "Delivery failed: " + e.getMessage());
        }
        List<RecipientResult> results = new ArrayList<>();
        for (String r : request.recipients()) {
            results.add(verdict.result(r, service));
        }
        return results;
    }

    private Verdict run(DeliveryRequest request, PluginContext context, String service)
            throws PipeConfigException, IOException {
        PipeAttributes attr = PipeAttributes.parse(request.arguments());
        long timeLimit = timeLimit(context, service);
        UnixAccount account = account(attr, context);
        List<String> recipients = request.recipients();

        for (char flag : new char[] {'D', 'O'}) {
            if (attr.has(flag) && recipients.size() > 1) {
                context.logger().log(Level.WARNING,
                        "pipe flag `" + flag + "' requires " + service + "_destination_recipient_limit = 1");
                return Verdict.deferred("4.3.5", "mail system configuration error");
            }
        }
        if (attr.sizeLimit() != 0 && request.content().size() > attr.sizeLimit()) {
            return Verdict.bounced("5.2.3", "message too large");
        }
        if (attr.has('D')) {
            String rcpt = recipients.get(0);
            for (Header h : request.content().headers()) {
                if (h.is("Delivered-To") && h.value().strip().equalsIgnoreCase(rcpt)) {
                    return Verdict.bounced("5.4.6", "mail forwarding loop for " + rcpt);
                }
            }
        }

        String sender = request.envelope().sender().isEmpty() ? attr.nullSender() : request.envelope().sender();
        List<ArgvExpander.Recipient> batch = new ArrayList<>();
        for (String r : recipients) {
            batch.add(new ArgvExpander.Recipient(r, r)); // the api carries no pre-rewrite address yet
        }
        List<String> argv = new ArgvExpander(perMessage(request, attr, sender), attr,
                parameter(context, "recipient_delimiter", ""), parameter(context, "double_bounce_sender", "double-bounce"),
                bool(context, "owner_request_special"))
                .expand(attr.command(), batch);

        String command = argv.get(0);
        String problem = executableProblem(command);
        Path directory = directory(attr, context);
        if (problem == null && attr.directory() != null && !Files.isDirectory(directory)) {
            problem = "cannot change directory to \"" + attr.directory() + "\" for uid=" + account.uid() + " gid="
                    + account.gid() + ": No such file or directory";
        }
        if (problem != null) {
            // what Postfix's child process reports before it exits with EX_TEMPFAIL
            return Verdict.deferred("4.3.0", Verdict.sysexitsText(Verdict.EX_TEMPFAIL) + ". Command output: pipe: fatal: "
                    + problem);
        }

        ProcessBuilder pb = new ProcessBuilder(processCommand(account, argv));
        pb.environment().clear();
        pb.environment().putAll(
                CommandEnvironment.environment(parameter(context, "export_environment", "TZ MAIL_CONFIG LANG")));
        pb.environment().put("PATH", CommandEnvironment.PATH);
        if (directory != null) {
            pb.directory(directory.toFile());
        }
        MessageCopier copier = new MessageCopier(attr);
        ZonedDateTime now = ZonedDateTime.now(context.clock());
        boolean orcpt = bool(context, "enable_original_recipient");
        CommandRunner.Outcome outcome = CommandRunner.run(pb, stdin -> {
            InputStream in;
            try {
                in = request.content().openMessage();
            } catch (IOException e) {
                throw new MessageCopier.ReadException(e);
            }
            try (in) {
                copier.copy(in, new BufferedOutputStream(stdin, 65536), sender, batch.get(0).original(),
                        recipients.get(0), now, orcpt);
            }
        }, timeLimit * 1000, "estafeta-pipe-" + service);
        return Verdict.of(outcome, command, service);
    }

    private static Map<String, String> perMessage(DeliveryRequest request, PipeAttributes attr, String sender) {
        ClientInfo client = request.envelope().client();
        Map<String, String> v = new HashMap<>();
        v.put("sender", !sender.isEmpty() && attr.has('q') ? Addresses.quoteLocal(sender) : sender);
        v.put("nexthop", attr.has('h') ? request.nexthop().toLowerCase(Locale.ROOT) : request.nexthop());
        v.put("size", Long.toString(request.content().size()));
        v.put("queue_id", request.envelope().queueId());
        v.put("envid", request.mailParameters().getOrDefault("ENVID", ""));
        v.put("client_address", client.address());
        v.put("client_hostname", client.hostname());
        v.put("client_helo", client.helo());
        v.put("sasl_username", client.saslUsername().orElse(""));
        // client_port, client_protocol, sasl_method and sasl_sender: the api does not carry them; they expand to ""
        return v;
    }

    private static long timeLimit(PluginContext context, String service) throws PipeConfigException {
        String name = service + "_time_limit";
        String value = context.parameter(name).orElse(null);
        if (value == null) {
            name = "command_time_limit";
            value = parameter(context, name, "1000s");
        }
        try {
            long seconds = ConfigValues.seconds(name, value, 's');
            if (seconds < 1) {
                throw new PipeConfigException("invalid " + name + " parameter value " + value + " < 1s");
            }
            return seconds;
        } catch (IllegalArgumentException e) {
            throw new PipeConfigException(e.getMessage());
        }
    }

    /** The account to run as, refused when it has root's, the mail owner's, or group 0's privileges. */
    private static UnixAccount account(PipeAttributes attr, PluginContext context) throws PipeConfigException, IOException {
        UnixAccount a;
        try {
            a = UnixAccount.lookup(attr.user(), attr.group());
        } catch (UnknownAccountException e) {
            // pipe(8)'s words
            throw new PipeConfigException((e.group() ? "unknown group: " : "unknown username: ") + e.name());
        }
        if (a.uid() == 0) {
            throw new PipeConfigException("user= command-line attribute specifies root privileges");
        }
        String owner = context.parameter("mail_owner").orElse("");
        if (!owner.isEmpty()) {
            try {
                if (UnixAccount.lookup(owner, null).uid() == a.uid()) {
                    throw new PipeConfigException("user= command-line attribute specifies mail system owner " + owner);
                }
            } catch (UnknownAccountException e) {
                // no such account: nobody can be it
            }
        }
        if (a.gid() == 0) {
            throw new PipeConfigException("user= command-line attribute specifies privileged group id 0");
        }
        return a;
    }

    /** The command line to start: through setpriv when the gateway runs as root, as is when it already is that user. */
    private static List<String> processCommand(UnixAccount account, List<String> argv)
            throws PipeConfigException, IOException {
        List<String> program = new ArrayList<>(argv);
        program.set(0, resolve(argv.get(0)).toString());
        try {
            return SetprivCommand.commandLine(account, program);
        } catch (CannotSwitchUserException e) {
            throw new PipeConfigException("cannot run commands as user " + account.user() + ": " + e.getMessage());
        }
    }

    /** The program as execvp finds it with {@code PATH=/usr/bin:/bin}. */
    private static Path resolve(String command) {
        return Path.of(CommandEnvironment.resolve(command));
    }

    /** Why the command cannot be executed, in execvp's words, or null. */
    private static String executableProblem(String command) {
        Path p = resolve(command);
        if (!Files.exists(p)) {
            return "pipe_command: execvp " + command + ": No such file or directory";
        }
        if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
            return "pipe_command: execvp " + command + ": Permission denied";
        }
        return null;
    }

    private static Path directory(PipeAttributes attr, PluginContext context) {
        if (attr.directory() != null) {
            return Path.of(attr.directory());
        }
        String queue = context.parameter("queue_directory").orElse("");
        return !queue.isEmpty() && Files.isDirectory(Path.of(queue)) ? Path.of(queue) : null;
    }

    /** A yes/no parameter whose built-in default is yes. */
    private static boolean bool(PluginContext context, String name) throws PipeConfigException {
        try {
            return ConfigValues.bool(name, parameter(context, name, "yes"));
        } catch (IllegalArgumentException e) {
            throw new PipeConfigException(e.getMessage());
        }
    }

    private static String parameter(PluginContext context, String name, String fallback) {
        return context.parameter(name).orElse(fallback);
    }
}
