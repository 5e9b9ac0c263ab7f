package org.estafeta.transport.local.internal;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.Transport;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.config.ConfigSource;
import org.estafeta.tables.TableService;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The {@code local} transport, Postfix's local(8), for the recipients of {@code mydestination}: {@code alias_maps}
 * with {@code owner-} aliases, {@code :include:}, {@code |command} and {@code /file/name} targets (behind
 * {@code allow_mail_to_commands} and {@code allow_mail_to_files}), {@code .forward} files ({@code forward_path}),
 * then {@code mailbox_transport_maps} and {@code mailbox_transport} (the recipient is passed to another transport,
 * see {@link DeliverPass}), {@code mailbox_command_maps} and {@code mailbox_command}, or the mailbox:
 * {@code home_mailbox} (Maildir when it ends in {@code /}) or an mbox in {@code mail_spool_directory}, locked with a
 * dotlock and an fcntl lock, limited by {@code mailbox_size_limit}. Names that are neither aliases nor users go to
 * {@code fallback_transport_maps}, {@code fallback_transport} or {@code luser_relay}, else bounce with
 * {@code 5.1.1 unknown user: "name"}.
 *
 * <p>Expanded addresses in a local domain are delivered here at once; others (and all addresses of
 * {@code :include:} files and of lists with an {@code owner-} alias, as in Postfix) are forwarded: a new message goes
 * through the {@link Cleanup} service with a {@code Delivered-To} header, and the recipient is logged
 * {@code forwarded as ID}. A recipient whose expansion went to several places gets one result: deferred if any part
 * was deferred (it is retried whole, and nothing is forwarded this time), else bounced if any part bounced, else
 * delivered, with each distinct text once.
 *
 * <p>The gateway runs as root: files are written, then chowned to the recipient; commands run through
 * {@code setpriv} as the recipient (for {@code .forward} and {@code mailbox_command}), as the owner of the alias
 * table or {@code :include:} file, or as {@code default_privs}.
 */
@Component(property = Transport.NAME + "=local")
public final class LocalTransport implements Transport {
    private final TableService tables;
    private final Cleanup cleanup;
    private final Passwd.Accounts accounts;
    private final Agents agents;

    @Activate
    public LocalTransport(@Reference TableService tables, @Reference Cleanup cleanup, @Reference ConfigSource config,
            BundleContext bundle) {
        this(tables, cleanup, Passwd.SYSTEM, new ServiceAgents(config, bundle));
    }

    /** For tests: accounts other than the system's, no other transports. */
    LocalTransport(TableService tables, Cleanup cleanup, Passwd.Accounts accounts) {
        this(tables, cleanup, accounts, Agents.NONE);
    }

    /** For tests: accounts other than the system's, and the agents recipients may be passed to. */
    LocalTransport(TableService tables, Cleanup cleanup, Passwd.Accounts accounts, Agents agents) {
        this.tables = tables;
        this.cleanup = cleanup;
        this.accounts = accounts;
        this.agents = agents;
    }

    @Override
    public List<RecipientResult> deliver(DeliveryRequest request, PluginContext context) {
        String relay = request.service().isEmpty() ? "local" : request.service();
        Settings settings;
        String fatal;
        try {
            fatal = Settings.sizeLimitProblem(context, "mailbox_size_limit", "51200000");
            settings = fatal == null ? Settings.local(context) : null;
        } catch (IllegalArgumentException e) {
            fatal = e.getMessage();
            settings = null;
        }
        List<RecipientResult> results = new ArrayList<>();
        if (fatal != null) {
            // Postfix's local(8) exits with this line and the queue manager defers the mail
            context.logger().log(Level.INFO, "fatal: " + fatal);
            for (String r : request.recipients()) {
                results.add(Outcome.deferred("4.3.0", "unknown mail transport error").result(r, relay));
            }
            return results;
        }
        try (Maps aliases = new Maps(tables, context, "alias_maps");
                Maps mailboxTransports = new Maps(tables, context, "mailbox_transport_maps");
                Maps mailboxCommands = new Maps(tables, context, "mailbox_command_maps");
                Maps fallbackTransports = new Maps(tables, context, "fallback_transport_maps")) {
            LocalDelivery.Tables maps = new LocalDelivery.Tables(aliases, mailboxTransports, mailboxCommands,
                    fallbackTransports);
            for (String r : request.recipients()) {
                results.add(new LocalDelivery(request, context, settings, maps, cleanup, accounts, agents, r).run()
                        .result(r, relay));
            }
        }
        return results;
    }
}
