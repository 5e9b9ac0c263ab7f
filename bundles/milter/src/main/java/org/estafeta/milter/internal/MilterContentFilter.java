package org.estafeta.milter.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.estafeta.api.filter.ContentFilter;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.filter.HeaderEdit;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.milter.MilterAction;
import org.estafeta.milter.MilterResult;
import org.estafeta.milter.MilterSession;
import org.estafeta.milter.MilterSettings;
import org.estafeta.milter.MilterSpec;
import org.estafeta.milter.MilterVerdict;
import org.estafeta.milter.Milters;

/**
 * The milters of {@code smtpd_milters} or {@code non_smtpd_milters} as a {@link ContentFilter}: cleanup's filter chain
 * runs it once the message is complete (cleanup adds the name to the chain when the parameter is set), and it
 * plays the whole milter conversation then — connect, HELO, MAIL, each RCPT, DATA, the headers, the body in
 * chunks, end of message — from the envelope and the spooled message.
 *
 * <p>What this means against Postfix (docs/milter.md): a milter's refusal at CONNECT, HELO, MAIL or RCPT reaches
 * the client at the end of DATA instead of at that command; header additions and insertions are applied (they
 * go on top of the message, where DKIM-Signature belongs); header changes and deletions, added recipients and a
 * replaced body are applied through {@link FilterVerdict.Modify}; sender changes and recipient deletions are
 * logged as not applied. Failures follow {@code milter_default_action}, which the
 * milter client applies; an unusable parameter is a temporary failure.
 */
abstract class MilterContentFilter implements ContentFilter {
    private static final int CHUNK = 65535;
    private final String parameter;

    MilterContentFilter(String parameter) {
        this.parameter = parameter;
    }

    @Override
    public FilterVerdict filter(Envelope envelope, MessageContent content, PluginContext context) {
        String list = context.parameter(parameter).orElse("").strip();
        if (list.isEmpty()) {
            return FilterVerdict.accept();
        }
        List<MilterSpec> specs = MilterSpec.parseList(parameter, list);
        MilterSettings settings = MilterSettings.from(context::parameter);
        String myhostname = context.parameter("myhostname").orElse("localhost");
        ClientInfo client = envelope.client();
        Map<String, String> macros = new HashMap<>();
        macros.put("j", myhostname);
        macros.put("{daemon_name}", settings.daemonName().isEmpty() ? myhostname : settings.daemonName());
        macros.put("v", settings.macroV());
        macros.put("_", client.hostname() + " [" + client.address() + "]");
        macros.put("{client_addr}", client.address());
        macros.put("{client_name}", client.hostname());
        macros.put("{client_ptr}", client.hostname());
        macros.put("i", envelope.queueId());
        macros.put("{mail_addr}", envelope.sender());
        client.saslUsername().ifPresent(u -> {
            macros.put("{auth_authen}", u);
            macros.put("{auth_type}", "");
        });
        try (MilterSession session = Milters.open(specs, settings, name -> macros.get(name))) {
            FilterVerdict early = early(session, envelope, client, macros, context);
            if (early != null) {
                return early;
            }
            String ownReceived = "by " + myhostname + " (";
            boolean skippedOwn = false;
            for (Header h : content.headers()) {
                if (!skippedOwn && h.is("Received") && h.value().contains(ownReceived)) {
                    skippedOwn = true; // the MTA's own Received header is not sent, as Postfix's cleanup
                    continue;
                }
                MilterVerdict v = session.header(h.name(), h.value());
                if (v.isFinal()) {
                    return verdict(v, myhostname);
                }
                if (v.action() == MilterVerdict.Action.ACCEPT) {
                    return FilterVerdict.accept();
                }
            }
            MilterVerdict eoh = session.endOfHeaders();
            if (eoh.isFinal()) {
                return verdict(eoh, myhostname);
            }
            try (InputStream body = content.openBody()) {
                byte[] buf = new byte[CHUNK];
                int n;
                while ((n = body.readNBytes(buf, 0, CHUNK)) > 0) {
                    MilterVerdict v = session.body(buf, 0, n);
                    if (v.isFinal()) {
                        return verdict(v, myhostname);
                    }
                }
            }
            try (MilterResult result = session.endOfMessage()) {
                if (result.verdict().isFinal()) {
                    return verdict(result.verdict(), myhostname);
                }
                return accept(result.actions(), content, context);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(parameter + ": reading the message: " + e.getMessage(), e);
        }
    }

    /** CONNECT to DATA; a final decision, or null to go on to the content. */
    private FilterVerdict early(MilterSession session, Envelope envelope, ClientInfo client, Map<String, String> macros,
            PluginContext context) {
        String myhostname = context.parameter("myhostname").orElse("localhost");
        MilterSession.AddressFamily family = client.address().indexOf(':') >= 0 ? MilterSession.AddressFamily.INET6
                : MilterSession.AddressFamily.INET;
        MilterVerdict v = session.connect(client.hostname(), family, client.address(), 0);
        if (v.isFinal()) {
            return verdict(v, myhostname);
        }
        v = session.helo(client.helo().isEmpty() ? client.hostname() : client.helo());
        if (v.isFinal()) {
            return verdict(v, myhostname);
        }
        v = session.mail("<" + envelope.sender() + ">", List.of());
        if (v.isFinal()) {
            return verdict(v, myhostname);
        }
        List<String> refused = new ArrayList<>();
        MilterVerdict lastRefusal = null;
        for (String rcpt : envelope.recipients()) {
            macros.put("{rcpt_addr}", rcpt);
            MilterVerdict r = session.rcpt("<" + rcpt + ">", List.of());
            if (r.action() == MilterVerdict.Action.REJECT || r.action() == MilterVerdict.Action.TEMPFAIL) {
                refused.add(rcpt);
                lastRefusal = r;
            } else if (r.isFinal()) {
                return verdict(r, myhostname);
            }
        }
        if (lastRefusal != null && refused.size() == envelope.recipients().size()) {
            return verdict(lastRefusal, myhostname);
        }
        if (!refused.isEmpty()) {
            context.logger().log(System.Logger.Level.WARNING, envelope.queueId() + ": " + parameter
                    + ": milter refused recipient(s) " + refused + " after the message was received; delivered to every"
                    + " recipient (a recipient cannot be dropped at end of data)");
        }
        v = session.data();
        return v.isFinal() ? verdict(v, myhostname) : null;
    }

    /**
     * The milters' modification requests as a {@link FilterVerdict.Modify}: added and inserted headers on top,
     * change and delete requests as header edits (a change of an absent header appends it, as Postfix), added
     * recipients, a replaced body copied to a file the gateway takes over. Sender changes and recipient deletions
     * are logged as not applied.
     */
    private static FilterVerdict accept(List<MilterAction> actions, MessageContent content, PluginContext context)
            throws IOException {
        List<Header> add = new ArrayList<>();
        List<HeaderEdit> edits = new ArrayList<>();
        List<String> recipients = new ArrayList<>();
        java.nio.file.Path body = null;
        List<String> skipped = new ArrayList<>();
        for (MilterAction a : actions) {
            if (a instanceof MilterAction.InsertHeader i) {
                add.add(new Header(i.name(), value(i.value())));
            } else if (a instanceof MilterAction.AddHeader h) {
                add.add(new Header(h.name(), value(h.value())));
            } else if (a instanceof MilterAction.ChangeHeader c) {
                String v = value(c.value());
                edits.add(new HeaderEdit(c.name(), Math.max(1, c.index()),
                        v.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(v)));
            } else if (a instanceof MilterAction.DeleteHeader d) {
                edits.add(new HeaderEdit(d.name(), Math.max(1, d.index()), java.util.Optional.empty()));
            } else if (a instanceof MilterAction.AddRecipient r) {
                String addr = r.recipient().strip();
                if (addr.startsWith("<") && addr.endsWith(">")) {
                    addr = addr.substring(1, addr.length() - 1);
                }
                recipients.add(addr);
            } else if (a instanceof MilterAction.ReplaceBody rb) {
                if (body != null) {
                    java.nio.file.Files.deleteIfExists(body);
                }
                body = copyBody(rb, context);
            } else {
                skipped.add(a.getClass().getSimpleName());
            }
        }
        if (!skipped.isEmpty()) {
            context.logger().log(System.Logger.Level.WARNING, "milter actions not applied (docs/milter.md): " + skipped);
        }
        if (edits.isEmpty() && recipients.isEmpty() && body == null) {
            return new FilterVerdict.Accept(add);
        }
        return new FilterVerdict.Modify(add, edits, recipients, java.util.Optional.ofNullable(body));
    }

    /** A milter's header value: LF folds become CRLF folds, the leading space after the colon goes. */
    private static String value(String v) {
        return v.replace("\r\n", "\n").replace("\n", "\r\n").replaceAll("^ ", "");
    }

    /** The replacement body in a file of its own (under the queue's tmp/ when there is one), for the gateway. */
    private static java.nio.file.Path copyBody(MilterAction.ReplaceBody rb, PluginContext context) throws IOException {
        java.nio.file.Path dir = context.parameter("queue_directory").map(q -> java.nio.file.Path.of(q, "tmp"))
                .filter(java.nio.file.Files::isDirectory)
                .orElse(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")));
        java.nio.file.Path file = java.nio.file.Files.createTempFile(dir, "milter-body", ".tmp");
        try (InputStream in = rb.body().open()) {
            java.nio.file.Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            java.nio.file.Files.deleteIfExists(file);
            throw e;
        }
        return file;
    }

    /** A final milter decision as the filter chain's verdict. */
    static FilterVerdict verdict(MilterVerdict v, String myhostname) {
        String who = v.milter().isEmpty() ? "milter" : "milter " + v.milter();
        return switch (v.action()) {
            case REJECT -> new FilterVerdict.Reject(reply(v.reply(), 550, "5.7.1"));
            case TEMPFAIL -> new FilterVerdict.Defer(reply(v.reply(), 451, "4.7.1"));
            case DISCARD -> new FilterVerdict.Discard(who + " discarded the message");
            case QUARANTINE -> new FilterVerdict.Hold(who + ": " + (v.reply().isEmpty() ? "quarantined" : v.reply()));
            case SHUTDOWN -> new FilterVerdict.Defer(new Reply(421, "4.7.0", myhostname + " Server closing connection"));
            default -> FilterVerdict.accept();
        };
    }

    /** {@code 550 5.7.1 text} (the first line of a multi-line reply) as a {@link Reply}. */
    static Reply reply(String text, int defaultCode, String defaultStatus) {
        String first = text.split("\r\n", 2)[0];
        int code = defaultCode;
        String rest = first;
        if (first.length() >= 3 && first.substring(0, 3).chars().allMatch(Character::isDigit)) {
            code = Integer.parseInt(first.substring(0, 3));
            rest = first.length() > 4 ? first.substring(4) : "";
        }
        String status = defaultStatus;
        String[] parts = rest.split(" ", 2);
        if (parts.length > 0 && parts[0].matches("[245]\\.\\d{1,3}\\.\\d{1,3}")) {
            status = parts[0];
            rest = parts.length > 1 ? parts[1] : "";
        }
        if (status.charAt(0) != String.valueOf(code).charAt(0)) {
            status = defaultStatus;
        }
        return new Reply(code, status, rest.isEmpty() ? "Error: message rejected by milter" : rest);
    }

    /** smtpd_milters: mail received by smtpd. */
    @org.osgi.service.component.annotations.Component(service = ContentFilter.class,
            property = ContentFilter.NAME + "=" + MilterSettings.SMTPD_MILTERS)
    public static final class Smtpd extends MilterContentFilter {
        public Smtpd() {
            super(MilterSettings.SMTPD_MILTERS);
        }
    }

    /** non_smtpd_milters: mail submitted locally (sendmail, pickup). */
    @org.osgi.service.component.annotations.Component(service = ContentFilter.class,
            property = ContentFilter.NAME + "=" + MilterSettings.NON_SMTPD_MILTERS)
    public static final class NonSmtpd extends MilterContentFilter {
        public NonSmtpd() {
            super(MilterSettings.NON_SMTPD_MILTERS);
        }
    }
}
