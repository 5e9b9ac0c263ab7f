package org.estafeta.transport.local.internal;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.api.transport.Transport;
import org.estafeta.config.ConfigValues;
import org.estafeta.tables.TableService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The {@code virtual} transport, Postfix's virtual(8), for users without a system account: the mailbox is
 * {@code $virtual_mailbox_base/} followed by the {@code virtual_mailbox_maps} result (a Maildir when it ends in
 * {@code /}, else an mbox file locked as local's), owned by the uid and gid of {@code virtual_uid_maps} and
 * {@code virtual_gid_maps} ({@code static:5000} or tables; uids below {@code virtual_minimum_uid} and gid 0 are
 * refused), limited by {@code virtual_mailbox_limit}. Tables are asked the full address, then the address without
 * its extension, then {@code @domain}. A recipient not in {@code virtual_mailbox_maps} bounces with
 * {@code 5.1.1 unknown user: "user@domain"}; a missing uid or gid, or a table that fails, defers with {@code 4.3.5}.
 */
@Component(property = Transport.NAME + "=virtual")
public final class VirtualTransport implements Transport {
    private final TableService tables;

    @Activate
    public VirtualTransport(@Reference TableService tables) {
        this.tables = tables;
    }

    @Override
    public List<RecipientResult> deliver(DeliveryRequest request, PluginContext context) {
        String relay = request.service().isEmpty() ? "virtual" : request.service();
        String base = context.parameter("virtual_mailbox_base").orElse("");
        String fatal;
        long limit = 0;
        long minUid = 100;
        try {
            fatal = Settings.sizeLimitProblem(context, "virtual_mailbox_limit", "51200000");
            limit = ConfigValues.integer("virtual_mailbox_limit", Settings.p(context, "virtual_mailbox_limit", "51200000"));
            minUid = ConfigValues.integer("virtual_minimum_uid", Settings.p(context, "virtual_minimum_uid", "100"));
        } catch (IllegalArgumentException e) {
            fatal = e.getMessage();
        }
        if (fatal == null && !base.startsWith("/")) {
            fatal = "do not specify relative pathname: virtual_mailbox_base = " + base;
        }
        List<RecipientResult> results = new ArrayList<>();
        if (fatal != null) {
            context.logger().log(Level.INFO, "fatal: " + fatal); // virtual(8) exits; the queue manager defers
            for (String r : request.recipients()) {
                results.add(Outcome.deferred("4.3.0", "unknown mail transport error").result(r, relay));
            }
            return results;
        }
        String delimiter = Settings.p(context, "recipient_delimiter", "");
        try (Maps mailboxes = new Maps(tables, context, "virtual_mailbox_maps");
                Maps uids = new Maps(tables, context, "virtual_uid_maps");
                Maps gids = new Maps(tables, context, "virtual_gid_maps")) {
            for (String r : request.recipients()) {
                Outcome o = deliver(request, context, r, base, limit, minUid, delimiter, mailboxes, uids, gids);
                results.add(o.result(r, relay));
            }
        }
        return results;
    }

    private static Outcome deliver(DeliveryRequest request, PluginContext context, String recipient, String base,
            long limit, long minUid, String delimiter, Maps mailboxes, Maps uids, Maps gids) {
        String user = recipient.toLowerCase(Locale.ROOT);
        if (request.content().headers().stream()
                .anyMatch(h -> h.is("Delivered-To") && h.value().strip().equalsIgnoreCase(user))) {
            return Outcome.bounced("5.4.6", "mail forwarding loop for " + recipient);
        }
        Maps.Found mailbox = find(mailboxes, user, delimiter);
        if (mailbox.failed()) {
            warn(context, "table " + mailbox.table() + ": lookup " + user + ": " + mailbox.failure());
            return Outcome.deferred("4.3.5", "mail system configuration error");
        }
        if (!mailbox.found()) {
            return Outcome.bounced("5.1.1", "unknown user: \"" + user + "\"");
        }
        String path = base.replaceAll("/+$", "") + "/" + mailbox.value();
        if (path.substring(base.length()).contains("/../")) {
            warn(context, "recipient " + user + ": bad mailbox path " + mailbox.value() + " in " + mailboxes.title());
            return Outcome.deferred("4.3.5", "mail system configuration error");
        }
        Long uid = id(context, find(uids, user, delimiter), user, "uid", uids.title());
        Long gid = uid == null ? null : id(context, find(gids, user, delimiter), user, "gid", gids.title());
        if (uid == null || gid == null || uid < minUid || gid == 0) {
            if (uid != null && uid < minUid) {
                warn(context, "recipient " + user + ": bad uid " + uid + " in " + uids.title());
            } else if (gid != null && gid == 0) {
                warn(context, "recipient " + user + ": bad gid " + gid + " in " + gids.title());
            }
            return Outcome.deferred("4.3.5", "mail system configuration error");
        }
        Mailbox.Owner owner = new Mailbox.Owner(uid.intValue(), gid.intValue());
        MessageCopy copy = new MessageCopy(request.envelope().sender(), recipient, recipient,
                ZonedDateTime.now(context.clock()));
        Path link = Mailbox.symlinkBelow(Path.of(base), Path.of(path));
        if (link != null && !link.equals(Path.of(base))) {
            return Outcome.deferred("4.2.0", "destination " + path + " is a symbolic link: " + link);
        }
        if (path.endsWith("/")) {
            Outcome o = Mailbox.deliverMaildir(Path.of(path), owner, copy, request.content(), limit, "4.2.0");
            return o.status() == Status.DELIVERED ? Outcome.sent("delivered to maildir")
                    : Outcome.failed(o.dsn(), "maildir delivery failed: " + o.text());
        }
        Outcome o = Mailbox.appendMbox(Path.of(path), owner, copy, request.content(), limit, true, "4.2.0");
        return o.status() == Status.DELIVERED ? Outcome.sent("delivered to mailbox")
                : Outcome.failed(o.dsn(), "cannot update mailbox " + path + " for user " + user + ". " + o.text());
    }

    /** Postfix's mail_addr_find(): the address, the address without its extension, then {@code @domain}. */
    private static Maps.Found find(Maps maps, String address, String delimiter) {
        Maps.Found f = maps.find(address, false);
        if (f.found() || f.failed()) {
            return f;
        }
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        String domain = at < 0 ? "" : address.substring(at);
        for (int i = 1; !delimiter.isEmpty() && i < local.length(); i++) {
            if (delimiter.indexOf(local.charAt(i)) >= 0) {
                f = maps.find(local.substring(0, i) + domain, true);
                if (f.found() || f.failed()) {
                    return f;
                }
                break;
            }
        }
        return at < 0 ? f : maps.find(domain, true);
    }

    private static Long id(PluginContext context, Maps.Found f, String user, String what, String title) {
        if (f.failed()) {
            warn(context, "table " + f.table() + ": lookup " + user + ": " + f.failure());
            return null;
        }
        if (!f.found()) {
            warn(context, "recipient " + user + ": not found in " + title);
            return null;
        }
        try {
            return Long.parseLong(f.value().strip());
        } catch (NumberFormatException e) {
            warn(context, "recipient " + user + ": bad " + what + " " + f.value() + " in " + title);
            return null;
        }
    }

    private static void warn(PluginContext context, String text) {
        context.logger().log(Level.WARNING, text);
    }
}
