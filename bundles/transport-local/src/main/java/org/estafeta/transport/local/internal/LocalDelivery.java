package org.estafeta.transport.local.internal;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Header;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;

/**
 * One top-level recipient of a local delivery, as Postfix's deliver_recipient() and what it calls: each step that
 * ends somewhere (a mailbox, a file, a command, another transport, a bounce, a deferral) adds an {@link Outcome};
 * {@link #run} combines them. Duplicate and loop elimination follow Postfix: a per-recipient "been here" set, a
 * nesting limit of 100, and the message's {@code Delivered-To} headers.
 *
 * <p>The precedence of delivery methods is local(8)'s: aliases, .forward files, {@code mailbox_transport_maps},
 * {@code mailbox_transport}, {@code mailbox_command_maps}, {@code mailbox_command}, {@code home_mailbox},
 * {@code mail_spool_directory}, then, for a name that is neither an alias nor in the passwd database,
 * {@code fallback_transport_maps}, {@code fallback_transport} and {@code luser_relay}. The two mailbox transport
 * settings apply whether or not the user is in the passwd database, so with either set the last three are never used.
 */
final class LocalDelivery {
    private static final ClientInfo LOCAL = new ClientInfo("127.0.0.1", "localhost", "", false, Optional.empty());
    private static final int NESTING_LIMIT = 100;

    /**
     * What the expansion so far says about the address being delivered (Postfix's DELIVER_ATTR and USER_ATTR).
     *
     * @param address the address being delivered
     * @param delivered the Delivered-To address (the alias or .forward owner), null before any expansion
     * @param expFrom the alias this address came from, to deliver an alias that names itself to the user
     * @param how {@code alias}, {@code forward} or {@code include}; null for the top-level recipient
     * @param owner the owner address of a list ({@code owner-} alias) or the .forward user; null for none
     * @param sender the envelope sender of forwarded copies
     * @param rights whose rights commands and files get; null for default_privs
     * @param direct {@code \\user}: no alias or .forward expansion
     */
    private record Attr(int level, String address, String delivered, String expFrom, String how, String owner,
            String sender, Passwd rights, boolean direct) {
        Attr deeper() {
            return new Attr(level + 1, address, delivered, expFrom, how, owner, sender, rights, direct);
        }

        Attr to(String newAddress, boolean newDirect) {
            return new Attr(level + 1, newAddress, delivered, expFrom, how, owner, sender, rights, newDirect);
        }

        Attr expanded(String from, String newHow, String newOwner, String newSender, Passwd newRights) {
            return new Attr(level + 1, address, address, from, newHow, newOwner, newSender, newRights, false);
        }
    }

    /**
     * The tables of one local delivery request, opened on first use and closed with the request.
     */
    record Tables(Maps aliases, Maps mailboxTransports, Maps mailboxCommands, Maps fallbackTransports) {
    }

    /** The parts of an address: local part (folded), user and extension, domain. */
    private record Parts(String local, String user, String extension, String delimiter, String domain) {
    }

    private final DeliveryRequest request;
    private final PluginContext context;
    private final Settings settings;
    private final Maps aliases;
    private final Tables tables;
    private final Cleanup cleanup;
    private final Passwd.Accounts accounts;
    private final Agents agents;
    private final String recipient;
    private final List<Outcome> steps = new ArrayList<>();
    private final Set<String> beenHere = new HashSet<>();
    private final Set<String> deliveredTo = new HashSet<>();
    /** Forwarded addresses by Delivered-To address and envelope sender, as Postfix's forward_append(). */
    private final Map<List<String>, Set<String>> forwards = new LinkedHashMap<>();
    private final ZonedDateTime now;

    LocalDelivery(DeliveryRequest request, PluginContext context, Settings settings, Tables tables, Cleanup cleanup,
            Passwd.Accounts accounts, Agents agents, String recipient) {
        this.request = request;
        this.context = context;
        this.settings = settings;
        this.tables = tables;
        this.aliases = tables.aliases();
        this.cleanup = cleanup;
        this.accounts = accounts;
        this.agents = agents;
        this.recipient = recipient;
        this.now = ZonedDateTime.now(context.clock());
        for (Header h : request.content().headers()) {
            if (h.is("Delivered-To")) {
                deliveredTo.add(h.value().strip().toLowerCase(Locale.ROOT));
            }
        }
    }

    Outcome run() {
        String sender = request.envelope().sender();
        recipient(new Attr(0, recipient, null, null, null, null, sender, null, false));
        boolean deferred = steps.stream().anyMatch(o -> o.status() == Status.DEFERRED);
        if (!deferred) {
            forwards.forEach((key, addresses) -> steps.add(forward(key.get(0), key.get(1), addresses)));
        }
        return steps.isEmpty() ? Outcome.sent("discarded") : Outcome.combine(steps);
    }

    // ---------------------------------------------------------------- the delivery switch

    private void recipient(Attr a) {
        if (a.level > NESTING_LIMIT) {
            warn("recipient nesting limit exceeded for " + a.address);
            steps.add(Outcome.bounced("5.4.6", "recipient nesting limit exceeded"));
            return;
        }
        if (!beenHere.add("recipient " + a.level + " " + a.address)) {
            return;
        }
        if (deliveredTo.contains(a.address.toLowerCase(Locale.ROOT))) {
            steps.add(Outcome.bounced("5.4.6", "mail forwarding loop for " + a.address));
            return;
        }
        Parts p = parts(a.address);
        if (p.user.isEmpty()) {
            steps.add(Outcome.bounced("5.1.3", "null username in \"" + a.address + "\""));
            return;
        }
        if (!a.direct) {
            if (alias(a, p.local) || (p.extension != null && alias(a, p.user))) {
                return;
            }
            if (a.owner != null && !a.owner.equalsIgnoreCase(p.user)) {
                indirect(a); // a list with an owner- alias, or a .forward naming someone else: forward
                return;
            }
            if ("include".equals(a.how)) {
                indirect(a);
                return;
            }
        }
        Passwd pw;
        try {
            pw = accounts.byName(p.user);
        } catch (IOException e) {
            warn("error looking up passwd info for " + p.user + ": " + e.getMessage());
            steps.add(Outcome.deferred("4.0.0", "user lookup error"));
            return;
        }
        if (pw != null && !Files.isDirectory(Path.of(pw.home()))) {
            steps.add(Outcome.deferred("4.3.0", "cannot access home directory " + pw.home()
                    + ": No such file or directory"));
            return;
        }
        if (pw != null && !a.direct && dotForward(a, p, pw)) {
            return;
        }
        if (!mailbox(a, p, pw)) {
            unknown(a, p);
        }
    }

    /**
     * Postfix's deliver_unknown(), for a name that is neither an alias nor a user: {@code fallback_transport_maps},
     * {@code fallback_transport}, then {@code luser_relay} (an address with {@code $name} expansion, delivered as an
     * alias to it would be), then required aliases are discarded with a warning and others bounce.
     */
    private void unknown(Attr a, Parts p) {
        if (!beenHere.add("deliver_unknown " + p.local)) {
            return;
        }
        Lookup f = lookup(tables.fallbackTransports(), p.user);
        if (f.failed()) {
            return;
        }
        if (f.value() != null) {
            pass(a, f.value());
            return;
        }
        if (!settings.fallbackTransport().isEmpty()) {
            pass(a, settings.fallbackTransport());
            return;
        }
        if (!settings.luserRelay().isEmpty()) {
            // no extension of the unknown name is carried over, and |command or /file mean nothing special here
            String relay = Macros.expand(settings.luserRelay(), variables(a, p, null), true);
            relay = relay == null ? "" : relay.strip();
            String canonical = relay.indexOf('@') < 0 ? relay + "@" + settings.myorigin() : relay;
            // (Postfix compares case-sensitively; a relay to the same name in other case would then be dropped
            // silently by the duplicate filter, so it bounces here too)
            if (relay.isEmpty() || canonical.equalsIgnoreCase(a.address)) {
                steps.add(Outcome.bounced("5.1.1", "unknown user: \"" + p.user + "\""));
            } else {
                // the copy's Delivered-To is the unknown recipient, as for an alias of it
                resolve(new Attr(a.level, a.address, a.delivered == null ? a.address : a.delivered, a.expFrom, a.how,
                        a.owner, a.sender, a.rights, false), relay);
            }
            return;
        }
        if (p.user.equals("postmaster") || p.user.equals("mailer-daemon")) {
            warn("required alias not found: " + p.user);
            steps.add(Outcome.sent("discarded"));
            return;
        }
        steps.add(Outcome.bounced("5.1.1", "unknown user: \"" + p.user + "\""));
    }

    /** A recipient for another transport: Postfix's deliver_pass() with the address as local has it now. */
    private void pass(Attr a, String service) {
        Map<String, String> params = request.recipientParameters().getOrDefault(recipient, Map.of());
        steps.add(DeliverPass.pass(service.strip(), a.address, params, request, context, agents));
    }

    /** A *_maps lookup's value (null: not found), or its failure, already logged and the recipient deferred. */
    private record Lookup(String value, boolean failed) {
    }

    /**
     * Looks {@code key} up as Postfix's maps_find() does for local(8): a table that fails, or a value that is empty,
     * is logged with Postfix's warnings and defers the recipient with {@code 4.3.0 table lookup failure}.
     */
    private Lookup lookup(Maps maps, String key) {
        Maps.Found f = maps.find(key, false);
        if (f.failed()) {
            warn(f.table() + " lookup error for \"" + key + "\"");
        } else if (f.found() && f.value().isBlank()) {
            warn(maps.title() + " lookup of " + key + " returns an empty string result");
            warn(maps.title() + " should return NO RESULT in case of NOT FOUND");
        } else {
            return new Lookup(f.found() ? f.value().strip() : null, false);
        }
        steps.add(Outcome.deferred("4.3.0", "table lookup failure"));
        return new Lookup(null, true);
    }

    // ---------------------------------------------------------------- aliases, :include:, .forward

    private boolean alias(Attr a, String name) {
        if (a.expFrom != null && a.expFrom.equalsIgnoreCase(name)) {
            return false; // an alias that includes its own name goes to the user
        }
        if (a.level > NESTING_LIMIT) {
            warn("alias database loop for " + name);
            steps.add(Outcome.bounced("5.4.6", "alias database loop for " + name));
            return true;
        }
        Maps.Found f = aliases.find(name, false);
        if (f.failed()) {
            warn(f.table() + ": lookup of '" + name + "' failed: " + f.failure());
            steps.add(Outcome.deferred("4.3.0", "alias database unavailable"));
            return true;
        }
        if (!f.found()) {
            return false;
        }
        Passwd rights;
        try {
            rights = tableOwner(f.table());
        } catch (IOException e) {
            warn("cannot find alias database owner for " + f.table());
            steps.add(Outcome.deferred("4.3.0", "cannot find alias database owner"));
            return true;
        }
        String owner = a.owner;
        String sender = a.sender;
        if (settings.ownerRequestSpecial()) {
            Maps.Found o = aliases.find("owner-" + name, false);
            if (o.failed()) {
                steps.add(Outcome.deferred("4.3.0", "alias database unavailable"));
                return true;
            }
            if (o.found()) {
                owner = "owner-" + name + "@" + settings.myorigin();
                sender = owner;
            }
        }
        List<String> targets = Tokens.split(f.value());
        if (targets.isEmpty()) {
            warn("no recipient in alias lookup result for " + name);
            steps.add(Outcome.deferred("4.3.0", "alias database unavailable"));
            return true;
        }
        Attr b = a.expanded(name, "alias", owner, sender, rights);
        for (String t : targets) {
            token(b, t);
        }
        return true;
    }

    /** Whose rights an alias table's commands and files get: the owner of its file, none (default_privs) for root. */
    private Passwd tableOwner(String spec) throws IOException {
        Path file = Path.of(spec.substring(spec.indexOf(':') + 1));
        if (!file.isAbsolute() || !Files.exists(file)) {
            return null;
        }
        int uid = (Integer) Files.getAttribute(file, "unix:uid");
        if (uid == 0) {
            return null;
        }
        Passwd pw = accounts.byUid(uid);
        if (pw == null) {
            throw new IOException("no passwd entry for uid " + uid);
        }
        return pw;
    }

    private void token(Attr a, String t) {
        if (t.startsWith("/")) {
            file(a, t);
        } else if (t.startsWith("~")) {
            if (!t.startsWith("~/") || a.rights == null) {
                warn((a.rights == null ? "unknown home directory for: " : "bad home directory syntax for: ") + t);
                steps.add(Outcome.bounced("5.3.5", "mail system configuration error"));
            } else {
                file(a, a.rights.home().replaceAll("/+$", "") + t.substring(1));
            }
        } else if (t.startsWith("|")) {
            if (!Settings.allows(settings.commandsAllowed(), a.how)) {
                steps.add(Outcome.bounced("5.7.1", "mail to command is restricted"));
            } else {
                command(a, t.substring(1));
            }
        } else if (t.regionMatches(true, 0, ":include:", 0, 9)) {
            include(a, t.substring(9));
        } else {
            resolve(a, t);
        }
    }

    private void include(Attr a, String path) {
        if (a.level > NESTING_LIMIT) {
            warn(":include: nesting limit exceeded for " + path);
            steps.add(Outcome.bounced("5.4.6", "alias expansion nesting limit exceeded"));
            return;
        }
        Path file = Path.of(path);
        String problem = !file.isAbsolute() ? ":include:" + path + " uses a relative path"
                : !Files.exists(file) ? "unable to lookup :include: file " + path + ": No such file or directory"
                : !Files.isRegularFile(file) ? ":include: file " + path + " is not a regular file" : null;
        Passwd rights = a.rights;
        List<String> lines;
        try {
            if (problem == null && (((Integer) Files.getAttribute(file, "unix:mode")) & 02) != 0) {
                problem = ":include: file " + path + " is world writable";
            }
            if (problem != null) {
                warn(problem);
                steps.add(Outcome.bounced("5.3.5", "mail system configuration error"));
                return;
            }
            int uid = (Integer) Files.getAttribute(file, "unix:uid");
            if (uid != 0) {
                rights = accounts.byUid(uid);
                if (rights == null) {
                    warn(path + ": cannot find :include: file owner username");
                    steps.add(Outcome.deferred("4.3.5", "mail system configuration error"));
                    return;
                }
            }
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            warn("cannot open include file " + path + ": " + Mailbox.reason(e));
            steps.add(Outcome.bounced("5.3.5", "cannot open include file " + file.getFileName()));
            return;
        }
        Attr b = new Attr(a.level + 1, a.address, a.delivered, a.expFrom, "include", a.owner, a.sender, rights, false);
        for (String line : lines) {
            if (!line.startsWith("#")) {
                for (String t : Tokens.split(line)) {
                    token(b, t);
                }
            }
        }
    }

    /** The user's .forward file: true when it named at least one target. */
    private boolean dotForward(Attr a, Parts p, Passwd pw) {
        Map<String, String> vars = variables(a, p, pw);
        Path file = null;
        for (String template : settings.forwardPath()) {
            String expanded = Macros.expand(template, vars, false);
            if (expanded != null && !expanded.isEmpty() && Files.exists(Path.of(expanded), NOFOLLOW_LINKS)) {
                file = Path.of(expanded);
                break;
            }
        }
        if (file == null) {
            return false;
        }
        if (!beenHere.add("forward " + file)) {
            return beenHere.contains("forward-done " + file);
        }
        List<String> lines;
        try {
            int owner = (Integer) Files.getAttribute(file, "unix:uid", NOFOLLOW_LINKS);
            int mode = (Integer) Files.getAttribute(file, "unix:mode", NOFOLLOW_LINKS);
            if (!Files.isRegularFile(file, NOFOLLOW_LINKS)) {
                warn("file " + file + " is not a regular file");
                return false;
            } else if (owner != 0 && owner != pw.uid()) {
                warn("file " + file + " has bad owner uid " + owner);
                return false;
            } else if ((mode & 02) != 0) {
                warn("file " + file + " is world writable");
                return false;
            }
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            warn("cannot open file " + file + ": " + Mailbox.reason(e));
            return false;
        }
        Attr b = new Attr(a.level + 1, a.address, a.address, p.local, "forward", p.user, a.sender, pw, false);
        int count = 0;
        for (String line : lines) {
            if (!line.startsWith("#")) {
                for (String t : Tokens.split(line)) {
                    count++;
                    token(b, t);
                }
            }
        }
        if (count > 0) {
            beenHere.add("forward-done " + file);
        }
        return count > 0;
    }

    // ---------------------------------------------------------------- where mail ends

    /** An address from an expansion: delivered here when its domain is local, else forwarded. */
    private void resolve(Attr a, String token) {
        String address = token;
        boolean direct = address.startsWith("\\");
        if (direct) {
            address = address.substring(1);
        }
        if (address.indexOf('@') < 0) {
            address = address + "@" + settings.myorigin();
        }
        String domain = address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
        Attr b = a.to(address, direct);
        if (settings.localDomains().contains(domain)) {
            recipient(b);
        } else {
            indirect(b);
        }
    }

    private void indirect(Attr a) {
        if (!beenHere.add("indirect " + a.address)) {
            return;
        }
        String delivered = a.delivered == null ? a.address : a.delivered;
        forwards.computeIfAbsent(List.of(delivered, a.sender), k -> new LinkedHashSet<>()).add(a.address);
    }

    /** Submits one forwarded copy with a Delivered-To header; Postfix's forward_send(). */
    private Outcome forward(String delivered, String sender, Set<String> addresses) {
        List<Submission.Recipient> rcpts = new ArrayList<>();
        List<String> notify = new ArrayList<>();
        for (String n : request.recipientParameters().getOrDefault(recipient, Map.of()).getOrDefault("NOTIFY", "")
                .split(",")) {
            if (!n.isBlank() && !n.equalsIgnoreCase("SUCCESS")) {
                notify.add(n);
            }
        }
        if (notify.isEmpty() && request.recipientParameters().getOrDefault(recipient, Map.of()).containsKey("NOTIFY")) {
            notify.add("NEVER");
        }
        for (String r : addresses) {
            rcpts.add(new Submission.Recipient(r, notify, Optional.empty()));
        }
        Map<String, String> params = new HashMap<>();
        for (String name : List.of("BODY", "SMTPUTF8")) {
            String v = request.mailParameters().get(name);
            if (v != null) {
                params.put(name, v);
            }
        }
        Cleanup.Stream stream = null;
        try {
            stream = cleanup.open(new Submission(sender, params, rcpts, LOCAL, "ESMTP", Submission.Actions.NONE));
            OutputStream out = new BufferedOutputStream(new StreamOutput(stream), 65536);
            out.write(("Delivered-To: " + delivered.toLowerCase(Locale.ROOT) + "\r\n").getBytes(StandardCharsets.UTF_8));
            try (InputStream in = request.content().openMessage()) {
                in.transferTo(out);
            }
            out.flush();
            String id = stream.commit();
            stream = null;
            return Outcome.sent("forwarded as " + id);
        } catch (Cleanup.Rejected e) {
            stream = null;
            return e.reply().isPermanent() ? Outcome.bounced(e.reply().enhancedStatus(), e.reply().text())
                    : Outcome.deferred("4.3.0", "unable to forward message");
        } catch (IOException | RuntimeException e) {
            warn("forward to " + addresses + ": " + e);
            return Outcome.deferred("4.3.0", "unable to forward message");
        } finally {
            if (stream != null) {
                stream.abort();
            }
        }
    }

    private void file(Attr a, String path) {
        Mailbox.Owner who = rights(a);
        if (who == null || !beenHere.add("file " + who.uid() + " " + path)) {
            return;
        }
        if (!Settings.allows(settings.filesAllowed(), a.how)) {
            steps.add(Outcome.bounced("5.7.1", "mail to file is restricted"));
            return;
        }
        MessageCopy copy = copy(a);
        if (path.endsWith("/")) {
            maildir(Path.of(path), who, copy);
            return;
        }
        Path file = Path.of(path);
        try {
            if (!Mailbox.writableBy(file, who)) {
                steps.add(Outcome.bounced("5.2.0", "cannot append message to file " + path
                        + ": cannot open file: Permission denied"));
                return;
            }
        } catch (IOException e) {
            steps.add(Outcome.bounced("5.2.0", "cannot append message to file " + path + ": cannot open file: "
                    + Mailbox.reason(e)));
            return;
        }
        Outcome o = Mailbox.appendMbox(file, who, copy, request.content(), settings.mailboxSizeLimit(), false, "5.2.0");
        steps.add(o.status() == Status.DELIVERED ? Outcome.sent("delivered to file: " + path)
                : Outcome.failed(o.dsn(), "cannot append message to file " + path + ": " + o.text()));
    }

    private void command(Attr a, String command) {
        Mailbox.Owner who = rights(a);
        Parts p = parts(a.address);
        if (who == null || !beenHere.add("command " + p.user + ":" + who.uid() + " " + command)) {
            return;
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (String item : settings.exportEnvironment()) {
            int eq = item.indexOf('=');
            if (eq > 0) {
                env.put(item.substring(0, eq), item.substring(eq + 1));
            } else if (System.getenv(item) != null) {
                env.put(item, System.getenv(item));
            }
        }
        env.put("PATH", "/usr/bin:/bin");
        if (a.rights != null) {
            env.put("HOME", a.rights.home());
            env.put("SHELL", a.rights.shell());
        }
        env.put("LOGNAME", p.user);
        env.put("USER", p.user);
        env.put("SENDER", request.envelope().sender());
        env.put("RECIPIENT", a.address);
        env.put("LOCAL", p.local);
        env.put("DOMAIN", p.domain);
        if (p.extension != null) {
            env.put("EXTENSION", p.extension);
        }
        env.put("ORIGINAL_RECIPIENT", recipient);
        steps.add(ShellCommand.run(command, who, env, copy(a), request.content(), settings.commandTimeLimit()));
    }

    /**
     * Postfix's deliver_mailbox(): {@code mailbox_transport_maps} and {@code mailbox_transport} for every name, then,
     * for a user in the passwd database, {@code mailbox_command_maps}, {@code mailbox_command} or the mailbox file.
     * False when none applies to a name without a passwd entry (it is an unknown user).
     */
    private boolean mailbox(Attr a, Parts p, Passwd pw) {
        if (!beenHere.add("mailbox " + p.local)) {
            return true;
        }
        Lookup t = lookup(tables.mailboxTransports(), p.user);
        if (t.failed()) {
            return true;
        }
        if (t.value() != null) {
            pass(a, t.value());
            return true;
        }
        if (!settings.mailboxTransport().isEmpty()) {
            pass(a, settings.mailboxTransport());
            return true;
        }
        if (pw == null) {
            return false;
        }
        Attr b = new Attr(a.level + 1, a.address, a.address, a.expFrom, a.how, a.owner, a.sender, pw, a.direct);
        Lookup c = lookup(tables.mailboxCommands(), p.user);
        if (c.failed()) {
            return true;
        }
        String command = c.value() != null ? c.value() : settings.mailboxCommand();
        if (!command.isEmpty()) {
            command(b, Macros.expand(command, variables(b, p, pw), true));
            return true;
        }
        Mailbox.Owner who = new Mailbox.Owner(pw.uid(), pw.gid());
        Path base;
        String path;
        if (!settings.homeMailbox().isEmpty()) {
            base = Path.of(pw.home());
            path = pw.home().replaceAll("/+$", "") + "/" + settings.homeMailbox();
        } else {
            base = Path.of(settings.spoolDirectory());
            path = settings.spoolDirectory().replaceAll("/+$", "") + "/" + p.user
                    + (settings.spoolDirectory().endsWith("/") ? "/" : "");
            try { // a group-writable spool (Debian's root:mail 2775) keeps its group on the mailbox
                int mode = (Integer) Files.getAttribute(base, "unix:mode");
                if ((mode & 02) == 0 && (mode & 020) != 0) {
                    who = new Mailbox.Owner(pw.uid(), (Integer) Files.getAttribute(base, "unix:gid"));
                }
            } catch (IOException e) {
                // the open below says what is wrong
            }
        }
        Path link = Mailbox.symlinkBelow(base, Path.of(path));
        if (link != null && !link.equals(base)) {
            steps.add(Outcome.bounced("5.2.0", "cannot update mailbox " + path + " for user " + p.user
                    + ". file is a symbolic link: " + link));
            return true;
        }
        MessageCopy copy = copy(b);
        if (path.endsWith("/")) {
            maildir(Path.of(path), who, copy);
            return true;
        }
        Outcome o = Mailbox.appendMbox(Path.of(path), who, copy, request.content(), settings.mailboxSizeLimit(), true,
                "5.2.0");
        steps.add(o.status() == Status.DELIVERED ? Outcome.sent("delivered to mailbox")
                : Outcome.failed(o.dsn(), "cannot update mailbox " + path + " for user " + p.user + ". " + o.text()));
        return true;
    }

    private void maildir(Path dir, Mailbox.Owner who, MessageCopy copy) {
        Outcome o = Mailbox.deliverMaildir(dir, who, copy, request.content(), settings.mailboxSizeLimit(), "5.2.0");
        steps.add(o.status() == Status.DELIVERED ? Outcome.sent("delivered to maildir")
                : Outcome.failed(o.dsn(), "maildir delivery failed: " + o.text()));
    }

    // ---------------------------------------------------------------- helpers

    /** The uid/gid for a command or file: the rights of the expansion, default_privs instead of root or none. */
    private Mailbox.Owner rights(Attr a) {
        if (a.rights != null && a.rights.uid() != 0 && a.rights.gid() != 0) {
            return new Mailbox.Owner(a.rights.uid(), a.rights.gid());
        }
        try {
            Passwd d = accounts.byName(settings.defaultPrivs());
            if (d != null && d.uid() != 0 && d.gid() != 0) {
                return new Mailbox.Owner(d.uid(), d.gid());
            }
            warn("default_privs: unknown or privileged user: " + settings.defaultPrivs());
        } catch (IOException e) {
            warn("error looking up passwd info for " + settings.defaultPrivs() + ": " + e.getMessage());
        }
        steps.add(Outcome.deferred("4.3.5", "mail system configuration error"));
        return null;
    }

    private MessageCopy copy(Attr a) {
        String delivered = a.delivered == null ? a.address : a.delivered;
        return new MessageCopy(request.envelope().sender(), recipient, delivered, now);
    }

    private Parts parts(String address) {
        int at = address.lastIndexOf('@');
        String local = (at < 0 ? address : address.substring(0, at)).toLowerCase(Locale.ROOT);
        String domain = at < 0 ? "" : address.substring(at + 1).toLowerCase(Locale.ROOT);
        String user = local;
        String extension = null;
        String used = null;
        String delims = settings.recipientDelimiter();
        boolean special = local.equals("postmaster") || local.equals("mailer-daemon")
                || (delims.indexOf('-') >= 0 && settings.ownerRequestSpecial()
                        && (local.startsWith("owner-") || local.endsWith("-request")));
        for (int i = 1; !delims.isEmpty() && !special && i < local.length(); i++) {
            if (delims.indexOf(local.charAt(i)) >= 0) {
                user = local.substring(0, i);
                extension = local.substring(i + 1);
                used = String.valueOf(local.charAt(i));
                break;
            }
        }
        if (extension != null && extension.contains("/")) {
            warn(request.envelope().queueId() + ": address with illegal extension: " + local);
            return new Parts(user, user, null, null, domain);
        }
        return new Parts(local, user, extension, used, domain);
    }

    /** local_expand()'s names for forward_path, mailbox_command and luser_relay; no home or shell without pw. */
    private Map<String, String> variables(Attr a, Parts p, Passwd pw) {
        Map<String, String> v = new HashMap<>();
        v.put("user", p.user);
        if (pw != null) {
            v.put("home", pw.home());
            v.put("shell", pw.shell());
        }
        v.put("domain", p.domain);
        v.put("local", p.local);
        v.put("mailbox", p.local);
        v.put("recipient", a.address);
        if (p.extension != null) {
            v.put("extension", p.extension);
            v.put("recipient_delimiter", p.delimiter);
        }
        return v;
    }

    private void warn(String text) {
        context.logger().log(Level.WARNING, text);
    }

    /** An OutputStream onto a cleanup stream. */
    private static final class StreamOutput extends OutputStream {
        private final Cleanup.Stream stream;

        StreamOutput(Cleanup.Stream stream) {
            this.stream = stream;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            stream.write(b, off, len);
        }
    }
}
