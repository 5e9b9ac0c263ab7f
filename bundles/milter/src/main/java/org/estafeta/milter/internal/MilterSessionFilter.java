package org.estafeta.milter.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.filter.EventVerdict;
import org.estafeta.api.filter.FilterSession;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.filter.HeaderEdit;
import org.estafeta.api.filter.HeaderField;
import org.estafeta.api.filter.SessionFilter;
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
 * The milters of {@code smtpd_milters} or {@code non_smtpd_milters} as a {@link SessionFilter}: cleanup adds the name
 * to its filter chain when the parameter is set, and each session of the chain gets a {@link FilterSession} that
 * opens one {@link MilterSession} at CONNECT and tells it every event as it happens, so that a milter's answer takes
 * effect at the stage it was given, as in Postfix (docs/milter.md): a refusal at CONNECT or HELO for the rest of the
 * session, at MAIL for the transaction, at RCPT for that recipient, in the content at the end of DATA. At the end of
 * the message the milters' modification requests become a {@link FilterVerdict.Modify}: headers added and inserted
 * (on top, where DKIM-Signature belongs), changed and deleted, recipients added and removed, a new sender, a new
 * body.
 *
 * <p>Threading: {@link #open} from any thread; a session's events one at a time, as {@link FilterSession} promises
 * (the milter session is not thread-safe). Blocking: every event waits for the milters' replies, within the milter
 * timeouts. Errors: a milter that fails answers with its default action ({@code milter_default_action}), never an
 * exception; an unusable parameter is an {@link IllegalArgumentException} from {@link FilterSession#connect}, which
 * the chain turns into a temporary failure.
 */
abstract class MilterSessionFilter implements SessionFilter {
    /** The largest SMFIC_BODY packet. */
    static final int CHUNK = 65535;

    private final String parameter;

    MilterSessionFilter(String parameter) {
        this.parameter = parameter;
    }

    @Override
    public FilterSession open(PluginContext context) {
        return new Session(parameter, context);
    }

    /** One SMTP session's milters. Not thread-safe: the chain calls it one event at a time. */
    static final class Session implements FilterSession {
        private final String parameter;
        private final PluginContext context;
        private final String myhostname;
        private final Map<String, String> macros = new HashMap<>();
        private MilterSession milters;
        /** MAIL was sent and neither the end of the message nor ABORT followed yet. */
        private boolean inTransaction;
        private byte[] buffer;

        Session(String parameter, PluginContext context) {
            this.parameter = parameter;
            this.context = context;
            this.myhostname = context.parameter("myhostname").orElse("localhost");
        }

        /**
         * Parses the parameter's milter list and settings, connects to each milter (blocking up to its connect
         * timeout) and sends SMFIC_CONNECT. An empty list accepts: no milter wants anything of the session.
         *
         * @throws IllegalArgumentException when the list or a {@code milter_*} parameter is unusable
         */
        @Override
        public EventVerdict connect(ClientInfo client) {
            String list = context.parameter(parameter).orElse("").strip();
            if (list.isEmpty()) {
                return EventVerdict.ACCEPT;
            }
            List<MilterSpec> specs = MilterSpec.parseList(parameter, list);
            MilterSettings settings = MilterSettings.from(context::parameter);
            macros.put("j", myhostname);
            macros.put("{daemon_name}", settings.daemonName().isEmpty() ? myhostname : settings.daemonName());
            macros.put("v", settings.macroV());
            macros.put("_", client.hostname() + " [" + client.address() + "]");
            macros.put("{client_addr}", client.address());
            macros.put("{client_name}", client.hostname());
            macros.put("{client_ptr}", client.hostname());
            client.saslUsername().ifPresent(u -> {
                macros.put("{auth_authen}", u);
                macros.put("{auth_type}", "");
            });
            milters = Milters.open(specs, settings, macros::get);
            MilterSession.AddressFamily family = client.address().indexOf(':') >= 0
                    ? MilterSession.AddressFamily.INET6 : MilterSession.AddressFamily.INET;
            return sessionVerdict(milters.connect(client.hostname(), family, client.address(), 0), "connect");
        }

        @Override
        public EventVerdict helo(String name) {
            if (milters == null) {
                return EventVerdict.ACCEPT;
            }
            endTransaction(); // EHLO resets a transaction, as RSET
            return sessionVerdict(milters.helo(name), "helo");
        }

        /**
         * SMFIC_MAIL with {@code <sender>} and the ESMTP parameters as {@code NAME=VALUE} ({@code NAME} alone when
         * empty); the {@code {mail_addr}} macro is the sender.
         */
        @Override
        public EventVerdict mail(String sender, Map<String, String> parameters) {
            if (milters == null) {
                return EventVerdict.ACCEPT;
            }
            endTransaction();
            inTransaction = true;
            macros.remove("i");
            macros.remove("{rcpt_addr}");
            macros.put("{mail_addr}", sender);
            return verdict(milters.mail("<" + sender + ">", esmtp(parameters)), myhostname);
        }

        @Override
        public EventVerdict rcpt(String recipient, Map<String, String> parameters) {
            if (milters == null) {
                return EventVerdict.ACCEPT;
            }
            macros.put("{rcpt_addr}", recipient);
            return verdict(milters.rcpt("<" + recipient + ">", esmtp(parameters)), myhostname);
        }

        /** STARTTLS: the macros Postfix sends with HELO and later events ({@code milter_helo_macros}). */
        @Override
        public void tls(org.estafeta.api.filter.TlsInfo tls) {
            macros.put("{tls_version}", tls.protocol());
            macros.put("{cipher}", tls.cipher());
            macros.put("{cipher_bits}", String.valueOf(tls.bits()));
            tls.peerSubject().ifPresent(v -> macros.put("{cert_subject}", v));
            tls.peerIssuer().ifPresent(v -> macros.put("{cert_issuer}", v));
        }

        /** SMTP AUTH: the macros Postfix sends with MAIL FROM ({@code milter_mail_macros}). */
        @Override
        public void authenticated(String mechanism, String username) {
            macros.put("{auth_type}", mechanism);
            macros.put("{auth_authen}", username);
        }

        @Override
        public EventVerdict data(String queueId) {
            if (milters == null) {
                return EventVerdict.ACCEPT;
            }
            inTransaction = true;
            macros.put("i", queueId);
            return verdict(milters.data(), myhostname);
        }

        /**
         * SMFIC_HEADER with the value as it stands after the colon, folds included: the milter client sends folds as
         * LF and drops the first space unless the milter negotiated SMFIP_HDR_LEADSPC, as Postfix's milter8 does.
         */
        @Override
        public EventVerdict header(HeaderField header) {
            if (milters == null) {
                return EventVerdict.ACCEPT;
            }
            return verdict(milters.header(header.name(), header.value()), myhostname);
        }

        @Override
        public EventVerdict endOfHeaders() {
            if (milters == null) {
                return EventVerdict.ACCEPT;
            }
            return verdict(milters.endOfHeaders(), myhostname);
        }

        /** The chunk in pieces of at most {@value MilterSessionFilter#CHUNK} bytes (one SMFIC_BODY each). */
        @Override
        public EventVerdict body(ByteBuffer chunk) {
            if (milters == null) {
                return EventVerdict.ACCEPT;
            }
            if (buffer == null) {
                buffer = new byte[CHUNK];
            }
            ByteBuffer in = chunk.duplicate();
            MilterVerdict v = MilterVerdict.CONTINUE;
            while (in.hasRemaining()) {
                int n = Math.min(CHUNK, in.remaining());
                in.get(buffer, 0, n);
                v = milters.body(buffer, 0, n);
                if (v.isFinal()) {
                    break;
                }
            }
            return verdict(v, myhostname);
        }

        /**
         * SMFIC_BODYEOB, then ABORT (as Postfix ends every transaction): a final decision as the matching verdict,
         * otherwise the modification requests (see {@link #modify}).
         */
        @Override
        public FilterVerdict endOfMessage(Envelope envelope, MessageContent content) {
            if (milters == null) {
                return FilterVerdict.accept();
            }
            try (MilterResult result = milters.endOfMessage()) {
                MilterVerdict v = result.verdict();
                if (v.isFinal()) {
                    FilterVerdict final_ = messageVerdict(v, myhostname);
                    if (!result.actions().isEmpty() && final_ instanceof FilterVerdict.Hold h) {
                        // Postfix applies the modifications to the message it quarantines
                        return new FilterVerdict.Hold(h.reason(), Optional.of(modify(result.actions(), context)));
                    }
                    return final_;
                }
                return modify(result.actions(), context);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(parameter + ": keeping the replaced body: " + e.getMessage(),
                        e);
            } finally {
                milters.abort();
                inTransaction = false;
            }
        }

        @Override
        public void abort() {
            if (milters != null) {
                milters.abort();
            }
            inTransaction = false;
        }

        @Override
        public void close() {
            MilterSession m = milters;
            milters = null;
            if (m != null) {
                try {
                    m.close();
                } catch (RuntimeException e) {
                    context.logger().log(System.Logger.Level.WARNING, parameter + ": closing: " + e);
                }
            }
        }

        /**
         * ABORT when a transaction is still open: one the chain ended without telling us, as after a message this
         * filter accepted early (the milters must be back in their envelope state for HELO and MAIL).
         */
        private void endTransaction() {
            if (inTransaction) {
                milters.abort();
                inTransaction = false;
            }
        }

        /** A verdict at CONNECT or HELO: DISCARD is not possible there and is ignored with a warning, as Postfix. */
        private EventVerdict sessionVerdict(MilterVerdict v, String stage) {
            if (v.action() == MilterVerdict.Action.DISCARD) {
                context.logger().log(System.Logger.Level.WARNING, parameter + ": milter " + v.milter()
                        + ": DISCARD action is not allowed for " + stage + " -- ignored");
                return EventVerdict.CONTINUE;
            }
            return verdict(v, myhostname);
        }
    }

    /** The ESMTP parameters as the client wrote them: {@code NAME=VALUE}, or {@code NAME} for an empty value. */
    static List<String> esmtp(Map<String, String> parameters) {
        List<String> out = new ArrayList<>(parameters.size());
        parameters.forEach((k, v) -> out.add(v == null || v.isEmpty() ? k : k + "=" + v));
        return out;
    }

    /** A milter decision for one event as the chain's {@link EventVerdict}. */
    static EventVerdict verdict(MilterVerdict v, String myhostname) {
        String who = v.milter().isEmpty() ? "milter" : "milter " + v.milter();
        return switch (v.action()) {
            case CONTINUE -> EventVerdict.CONTINUE;
            case ACCEPT -> EventVerdict.ACCEPT;
            case REJECT -> new EventVerdict.Reject(reply(v.reply(), 550, "5.7.1"));
            case TEMPFAIL -> new EventVerdict.Defer(reply(v.reply(), 451, "4.7.1"));
            case DISCARD -> new EventVerdict.Discard(who + " discarded the message");
            case QUARANTINE -> new EventVerdict.Hold(who + ": " + (v.reply().isEmpty() ? "quarantined" : v.reply()));
            case SHUTDOWN -> new EventVerdict.Defer(shutdown(myhostname));
        };
    }

    /** A final milter decision at the end of the message as the chain's {@link FilterVerdict}. */
    static FilterVerdict messageVerdict(MilterVerdict v, String myhostname) {
        String who = v.milter().isEmpty() ? "milter" : "milter " + v.milter();
        return switch (v.action()) {
            case REJECT -> new FilterVerdict.Reject(reply(v.reply(), 550, "5.7.1"));
            case TEMPFAIL -> new FilterVerdict.Defer(reply(v.reply(), 451, "4.7.1"));
            case DISCARD -> new FilterVerdict.Discard(who + " discarded the message");
            case QUARANTINE -> new FilterVerdict.Hold(who + ": " + (v.reply().isEmpty() ? "quarantined" : v.reply()));
            case SHUTDOWN -> new FilterVerdict.Defer(shutdown(myhostname));
            case CONTINUE, ACCEPT -> FilterVerdict.accept();
        };
    }

    /** What Postfix's smtpd answers to SMFIR_SHUTDOWN before it closes the connection. */
    private static Reply shutdown(String myhostname) {
        return new Reply(421, "4.7.0", myhostname + " Server closing connection");
    }

    /**
     * The milters' modification requests as a {@link FilterVerdict.Modify}: added and inserted headers on top,
     * change and delete requests as header edits (a change of an absent header appends it, as Postfix), recipients
     * added and removed, the new sender, a replaced body copied to a file the gateway takes over. ESMTP arguments of
     * a new sender or recipient are not applied (logged).
     */
    static FilterVerdict modify(List<MilterAction> actions, PluginContext context) throws IOException {
        List<Header> add = new ArrayList<>();
        List<HeaderEdit> edits = new ArrayList<>();
        List<String> recipients = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        Optional<String> sender = Optional.empty();
        Path body = null;
        List<String> ignored = new ArrayList<>();
        try {
            for (MilterAction a : actions) {
                if (a instanceof MilterAction.InsertHeader i) {
                    add.add(new Header(i.name(), value(i.value())));
                } else if (a instanceof MilterAction.AddHeader h) {
                    add.add(new Header(h.name(), value(h.value())));
                } else if (a instanceof MilterAction.ChangeHeader c) {
                    String v = value(c.value());
                    edits.add(new HeaderEdit(c.name(), Math.max(1, c.index()),
                            v.isEmpty() ? Optional.empty() : Optional.of(v)));
                } else if (a instanceof MilterAction.DeleteHeader d) {
                    edits.add(new HeaderEdit(d.name(), Math.max(1, d.index()), Optional.empty()));
                } else if (a instanceof MilterAction.AddRecipient r) {
                    recipients.add(address(r.recipient()));
                    if (!r.esmtpArgs().isBlank()) {
                        ignored.add("ESMTP arguments of added recipient " + r.recipient() + ": " + r.esmtpArgs());
                    }
                } else if (a instanceof MilterAction.DeleteRecipient r) {
                    removed.add(address(r.recipient()));
                } else if (a instanceof MilterAction.ChangeSender s) {
                    sender = Optional.of(address(s.sender()));
                    if (!s.esmtpArgs().isBlank()) {
                        ignored.add("ESMTP arguments of the new sender " + s.sender() + ": " + s.esmtpArgs());
                    }
                } else if (a instanceof MilterAction.ReplaceBody rb) {
                    if (body != null) {
                        Files.deleteIfExists(body);
                    }
                    body = copyBody(rb, context);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (body != null) {
                Files.deleteIfExists(body);
            }
            throw e;
        }
        if (!ignored.isEmpty()) {
            context.logger().log(System.Logger.Level.WARNING, "milter requests not applied (docs/milter.md): "
                    + ignored);
        }
        if (edits.isEmpty() && recipients.isEmpty() && removed.isEmpty() && sender.isEmpty() && body == null) {
            return new FilterVerdict.Accept(add);
        }
        return new FilterVerdict.Modify(add, edits, recipients, Optional.ofNullable(body), removed, sender,
                Optional.empty(), Optional.empty(), List.of());
    }

    /** An address as a milter writes it ({@code <a@b>}, {@code a@b}, {@code <>}) without the angle brackets. */
    static String address(String milterAddress) {
        String a = milterAddress.strip();
        if (a.startsWith("<") && a.endsWith(">")) {
            a = a.substring(1, a.length() - 1);
        }
        return a;
    }

    /** A milter's header value: LF folds become CRLF folds, the leading space after the colon goes. */
    static String value(String v) {
        return v.replace("\r\n", "\n").replace("\n", "\r\n").replaceAll("^ ", "");
    }

    /** The replacement body in a file of its own (under the queue's tmp/ when there is one), for the gateway. */
    private static Path copyBody(MilterAction.ReplaceBody rb, PluginContext context) throws IOException {
        Path dir = context.parameter("queue_directory").map(q -> Path.of(q, "tmp")).filter(Files::isDirectory)
                .orElse(Path.of(System.getProperty("java.io.tmpdir")));
        Path file = Files.createTempFile(dir, "milter-body", ".tmp");
        try (InputStream in = rb.body().open()) {
            Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        return file;
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
    @org.osgi.service.component.annotations.Component(service = SessionFilter.class,
            property = SessionFilter.NAME + "=" + MilterSettings.SMTPD_MILTERS)
    public static final class Smtpd extends MilterSessionFilter {
        public Smtpd() {
            super(MilterSettings.SMTPD_MILTERS);
        }
    }

    /** non_smtpd_milters: mail submitted locally (sendmail, pickup). */
    @org.osgi.service.component.annotations.Component(service = SessionFilter.class,
            property = SessionFilter.NAME + "=" + MilterSettings.NON_SMTPD_MILTERS)
    public static final class NonSmtpd extends MilterSessionFilter {
        public NonSmtpd() {
            super(MilterSettings.NON_SMTPD_MILTERS);
        }
    }
}
