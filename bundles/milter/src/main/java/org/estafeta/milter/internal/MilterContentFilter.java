package org.estafeta.milter.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.estafeta.api.filter.ContentFilter;
import org.estafeta.api.filter.FilterVerdict;
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
 * go on top of the message, where DKIM-Signature belongs); header changes and deletions, recipient and sender
 * changes and body replacement are logged as not applied. Failures follow {@code milter_default_action}, which the
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

    private static FilterVerdict accept(List<MilterAction> actions, MessageContent content, PluginContext context) {
        List<Header> add = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (MilterAction a : actions) {
            if (a instanceof MilterAction.ChangeHeader c && !c.value().isEmpty() && content.header(c.name()) == null) {
                // Postfix's cleanup_upd_header(): changing a header the message does not have adds it (rspamd's
                // milter proxy asks for X-Spam this way)
                add.add(new Header(c.name(), c.value().replace("\n", "\r\n").replaceAll("^ ", "")));
            } else if (a instanceof MilterAction.DeleteHeader d && content.header(d.name()) == null) {
                continue; // nothing to delete
            } else if (a instanceof MilterAction.InsertHeader i) {
                add.add(new Header(i.name(), i.value().replace("\n", "\r\n").replaceAll("^ ", "")));
            } else if (a instanceof MilterAction.AddHeader h) {
                add.add(new Header(h.name(), h.value().replace("\n", "\r\n").replaceAll("^ ", "")));
            } else {
                skipped.add(a.getClass().getSimpleName());
            }
        }
        if (!skipped.isEmpty()) {
            context.logger().log(System.Logger.Level.WARNING, "milter actions not applied (docs/milter.md): " + skipped);
        }
        return new FilterVerdict.Accept(add);
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
