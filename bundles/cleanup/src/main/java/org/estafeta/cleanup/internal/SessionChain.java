package org.estafeta.cleanup.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import org.estafeta.api.filter.ContentFilter;
import org.estafeta.api.filter.EventVerdict;
import org.estafeta.api.filter.FilterSession;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.filter.HeaderEdit;
import org.estafeta.api.filter.HeaderField;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.cleanup.FilterChannel;
import org.slf4j.Logger;

/**
 * The one filter path of a session (docs/content-filters.md): every filter of {@code estafeta_content_filters} and
 * the milters, as {@link FilterSession}s opened when the session starts, get each event in the list's order, and for
 * each message header_checks/body_checks ({@link HeaderBodyChecks}) come first. smtpd drives CONNECT to RCPT through
 * {@link FilterChannel}; cleanup's stream drives DATA to the end of the message. For local submission cleanup plays
 * the command events itself.
 *
 * <p>Each call into a filter runs on the caller's thread (a worker, never an event loop) with
 * {@code estafeta_content_filter_timeout}: a watchdog interrupts the thread when it passes, and the filter counts as
 * failed for the message. A failed filter's session is closed; a filter in {@code estafeta_content_filter_fail_open}
 * is then left out until the next transaction, any other refuses at that stage with {@code 451 4.3.0}. A filter that
 * is not installed when a message ends refuses it with {@code 451 4.3.0}: nothing passes a filter main.cf names
 * unfiltered. At each MAIL the chain looks its filters up again: one updated or put back since gets a new session
 * (it hears CONNECT and HELO again first), so each message is handled by one version of each filter.
 *
 * <p>Thread-safety: the event methods are called one at a time (the session's order) and are synchronized; only
 * {@link #reset} may come from another thread at any time, and takes effect before the next event.
 */
final class SessionChain implements FilterChannel {
    /** What cleanup answers when a filter cannot: the client tries again later. */
    static final Reply TEMPFAIL = new Reply(451, "4.3.0", "Error: content filter temporarily unavailable");

    /** The largest body chunk filters get: what one milter body packet holds. */
    static final int CHUNK = 65535;

    /** Where a message's lines go once it has a queue ID: cleanup's log, in its header_checks shape. */
    interface ActionLog {
        /** {@code ID: VERB: SUBJECT from host[addr]; from=<..> to=<..> proto=.. helo=<..>: DETAIL} at info. */
        void action(String verb, String subject, String detail);

        /** {@code warning: ID: TEXT}. */
        void warn(String text);
    }

    /** The stages whose refusals mean different things (EventVerdict's class comment). */
    private enum Stage {
        CONNECT, HELO, MAIL, RCPT, CONTENT
    }

    /** How the message ends when the chain has spoken. */
    sealed interface Outcome {
        /**
         * Queue it: these headers on top (first line first), on hold when {@code hold}; the filters' header edits,
         * recipients added and removed, a new sender, REDIRECT, FILTER and BCC, and the body replaced by {@code body}
         * (a file the caller now owns and deletes).
         */
        record Pass(List<Header> headers, boolean hold, List<HeaderEdit> edits, List<String> recipients,
                Optional<Path> body, List<String> removeRecipients, Optional<String> sender,
                Optional<String> redirect, Optional<String> route, List<String> blindCopies) implements Outcome {
            boolean rewritesContent() {
                return !edits.isEmpty() || body.isPresent();
            }
        }

        /** Refuse it with this reply; nothing is queued. */
        record Refuse(Reply reply) implements Outcome {
        }

        /** Accept it and throw it away. */
        record Discard() implements Outcome {
        }
    }

    /** One filter of the list and its session. */
    private static final class Slot {
        final String name;
        /** The registration the session belongs to; null while no bundle provides the filter (or for the checks). */
        FilterRegistry.Entry entry;
        FilterSession session;
        /** Answered Accept at CONNECT or HELO: nothing more of this session. */
        boolean sessionAccepted;
        /** Answered Accept (or was left out, failing open) for this message. */
        boolean messageDone;
        /** Failed open for this message: the end of the message does not need it. */
        boolean skipped;
        /** Why it failed in this transaction (its session is closed), or null. */
        String failure;

        Slot(String name) {
            this.name = name;
        }

        String subject() {
            return "filter " + name + (entry == null ? "" : " (" + entry.origin() + ")");
        }
    }

    private final FilterSettings settings;
    private final FilterRegistry registry;
    private final ScheduledExecutorService watchdog;
    private final PluginContext context;
    private final Logger log;
    private final List<Slot> slots = new ArrayList<>();
    private final AtomicBoolean resetPending = new AtomicBoolean();
    /** TLS and AUTH facts smtpd reported, not yet told to the filters (they go before the next event). */
    private final java.util.concurrent.ConcurrentLinkedQueue<java.util.function.Consumer<FilterSession>> news =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** The same facts, for a filter that joins the session late (replayed after CONNECT and HELO). */
    private final List<java.util.function.Consumer<FilterSession>> told = new ArrayList<>();

    private ClientInfo client;
    private String helo;
    private Optional<Refusal> sessionRefusal = Optional.empty();
    private boolean inTransaction;
    private boolean closed;
    /** Counts the transactions, so that a late abort of an old message cannot end a new one. */
    private int messageNo;

    // ---- the current message
    /** header/body checks of this message (first in the chain), or null. */
    private Slot checks;
    private ActionLog actions;
    private final List<String[]> pendingLines = new ArrayList<>();
    private Reply messageRefusal;
    private boolean discard;
    private boolean hold;

    SessionChain(FilterSettings settings, FilterRegistry registry, ScheduledExecutorService watchdog,
            PluginContext context, Logger log) {
        this.settings = settings;
        this.registry = registry;
        this.watchdog = watchdog;
        this.context = context;
        this.log = log;
        for (String name : settings.names()) {
            slots.add(new Slot(name));
        }
    }

    /** Whether any filter of main.cf's list is in this chain (header/body checks aside). */
    boolean hasFilters() {
        return !slots.isEmpty();
    }

    // ------------------------------------------------------------------------------------------ command events

    @Override
    public synchronized Optional<Refusal> connect(ClientInfo client) {
        this.client = client;
        for (Slot s : slots) {
            bind(s);
        }
        return commandEvent(Stage.CONNECT, f -> f.connect(client));
    }

    @Override
    public synchronized Optional<Refusal> helo(String name) {
        tellNews();
        this.helo = name;
        if (sessionRefusal.isPresent()) {
            return sessionRefusal;
        }
        return commandEvent(Stage.HELO, f -> f.helo(name));
    }

    @Override
    public synchronized Optional<Refusal> mail(String sender, Map<String, String> parameters) {
        tellNews();
        endTransaction();
        if (sessionRefusal.isPresent()) {
            return sessionRefusal;
        }
        startMessage();
        inTransaction = true;
        // a filter updated, removed or put back since the last message: the new version gets its own session
        for (Slot s : slots) {
            Optional<FilterRegistry.Entry> now = registry.find(s.name);
            long had = s.entry == null ? -1 : s.entry.serviceId();
            if (now.isEmpty() || now.get().serviceId() != had || s.session == null) {
                closeSession(s);
                bind(s);
                if (s.session != null && client != null) {
                    Optional<Refusal> r = replay(s);
                    if (r.isPresent()) {
                        return r;
                    }
                }
            }
        }
        return commandEvent(Stage.MAIL, f -> f.mail(sender, parameters));
    }

    @Override
    public synchronized Optional<Refusal> rcpt(String recipient, Map<String, String> parameters) {
        tellNews();
        if (sessionRefusal.isPresent()) {
            return sessionRefusal;
        }
        return commandEvent(Stage.RCPT, f -> f.rcpt(recipient, parameters));
    }

    @Override
    public void reset() {
        resetPending.set(true);
    }

    @Override
    public void tls(org.estafeta.api.filter.TlsInfo tls) {
        news.add(f -> f.tls(tls));
    }

    @Override
    public void authenticated(String mechanism, String username) {
        news.add(f -> f.authenticated(mechanism, username));
    }

    /** Tells every session the TLS and AUTH facts reported since the last event. */
    private void tellNews() {
        java.util.function.Consumer<FilterSession> fact;
        while ((fact = news.poll()) != null) {
            told.add(fact);
            for (Slot s : slots) {
                if (s.session != null && !s.sessionAccepted) {
                    java.util.function.Consumer<FilterSession> f = fact;
                    guarded(s, "session information", f);
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        resetPending.set(false);
        finishMessage(true);
        closed = true;
        for (Slot s : slots) {
            closeSession(s);
        }
    }

    /** CONNECT and HELO again for a filter that joined the session late (a new version of it). */
    private Optional<Refusal> replay(Slot s) {
        Optional<Refusal> r = deliver(s, Stage.CONNECT, f -> f.connect(client));
        for (java.util.function.Consumer<FilterSession> fact : told) {
            if (r.isPresent() || s.session == null || s.sessionAccepted) {
                break;
            }
            guarded(s, "session information", fact);
        }
        if (r.isEmpty() && helo != null && s.session != null && !s.sessionAccepted) {
            r = deliver(s, Stage.HELO, f -> f.helo(helo));
        }
        return r;
    }

    private Optional<Refusal> commandEvent(Stage stage, Function<FilterSession, EventVerdict> event) {
        for (Slot s : slots) {
            if (s.session == null || s.sessionAccepted || stage.compareTo(Stage.MAIL) >= 0 && s.messageDone) {
                continue;
            }
            Optional<Refusal> r = deliver(s, stage, event);
            if (r.isPresent()) {
                return r;
            }
            if (discard) {
                break; // a filter discarded the message: the others need not see it
            }
        }
        return Optional.empty();
    }

    /** One command event to one filter, and what its answer means at this stage. */
    private Optional<Refusal> deliver(Slot s, Stage stage, Function<FilterSession, EventVerdict> event) {
        EventVerdict v;
        try {
            v = call(s, event);
        } catch (Failure f) {
            return failed(s, stage, f.getMessage()).map(reply -> new Refusal(reply, s.name,
                    stage.compareTo(Stage.HELO) <= 0));
        }
        boolean sessionStage = stage.compareTo(Stage.HELO) <= 0;
        if (v instanceof EventVerdict.Accept) {
            if (sessionStage) {
                s.sessionAccepted = true;
            } else {
                s.messageDone = true;
            }
        } else if (v instanceof EventVerdict.Reject r) {
            return refusal(s, r.reply(), sessionStage);
        } else if (v instanceof EventVerdict.Defer d) {
            return refusal(s, d.reply(), sessionStage);
        } else if (v instanceof EventVerdict.Discard d) {
            if (sessionStage) {
                log.warn("{}: discard at {} is not possible -- ignored", s.subject(), stage);
            } else {
                discard = true;
                line("discard", s.subject(), d.reason());
            }
        } else if (v instanceof EventVerdict.Hold h) {
            if (sessionStage) {
                log.warn("{}: hold at {} is not possible -- ignored", s.subject(), stage);
            } else {
                hold = true;
                line("hold", s.subject(), h.reason());
            }
        }
        return Optional.empty();
    }

    private Optional<Refusal> refusal(Slot s, Reply reply, boolean sessionWide) {
        Refusal r = new Refusal(reply, s.name, sessionWide);
        if (sessionWide) {
            sessionRefusal = Optional.of(r);
        }
        return Optional.of(r);
    }

    // ------------------------------------------------------------------------------------------ content events

    /**
     * Starts the content of a message: the checks (or null) go first, {@code actions} is where the message's lines
     * go from now on, and the filters hear DATA with the queue ID.
     */
    synchronized int data(String queueId, FilterSession headerBodyChecks, ActionLog actions) {
        if (!inTransaction) {
            startMessage();
            inTransaction = true;
        }
        this.actions = actions;
        for (String[] l : pendingLines) {
            actions.action(l[0], l[1], l[2]);
        }
        pendingLines.clear();
        if (headerBodyChecks != null) {
            checks = new Slot("header_checks");
            checks.session = headerBodyChecks;
        }
        if (sessionRefusal.isPresent() && messageRefusal == null) {
            messageRefusal = sessionRefusal.get().reply();
        }
        contentEvent(f -> f.data(queueId));
        return messageNo;
    }

    /** The refusal of the current message so far (a filter's answer to an event), if any. */
    synchronized Optional<Reply> refusal() {
        return Optional.ofNullable(messageRefusal);
    }

    /** Refuses the current message with {@code reply} (a refusal cleanup met while playing the commands itself). */
    synchronized void refuse(Reply reply) {
        if (messageRefusal == null) {
            messageRefusal = reply;
        }
    }

    /** Whether the message is still going somewhere (no refusal or discard yet): later events matter. */
    synchronized boolean open() {
        return messageRefusal == null && !discard;
    }

    /**
     * One complete header (its lines with their CRLF): the bytes to write in its place, as the filters left them
     * (the same array when none changed it).
     */
    synchronized byte[] header(byte[] raw) {
        return header(raw, false);
    }

    /**
     * As {@link #header(byte[])}; with {@code droppedAfterChecks} (a {@code message_drop_headers} header) only the
     * header/body checks see it, as in Postfix, where cleanup drops such headers before the milters get the message:
     * when the checks leave it alone the same array comes back at once, for the caller to drop.
     */
    synchronized byte[] header(byte[] raw, boolean droppedAfterChecks) {
        List<byte[]> pieces = List.of(raw);
        for (Slot s : contentSlots()) {
            if (!open()) {
                break;
            }
            if (droppedAfterChecks && s != checks && pieces.size() == 1 && pieces.get(0) == raw) {
                return raw;
            }
            List<byte[]> next = new ArrayList<>(pieces.size());
            for (byte[] piece : pieces) {
                HeaderField field = field(piece);
                if (field == null || !open() || s.session == null || s.messageDone) {
                    next.add(piece); // not a header (a filter's odd replacement): written, not shown
                    continue;
                }
                EventVerdict v = content(s, f -> f.header(field));
                if (v instanceof EventVerdict.Replace r) {
                    next.addAll(headers(r.bytes()));
                } else {
                    next.add(piece);
                }
            }
            pieces = next;
        }
        if (pieces.size() == 1) {
            return pieces.get(0);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        pieces.forEach(out::writeBytes);
        return out.toByteArray();
    }

    synchronized void endOfHeaders() {
        contentEvent(FilterSession::endOfHeaders);
    }

    /** One body chunk (whole lines, at most {@link #CHUNK} bytes): the bytes to write in its place. */
    synchronized byte[] body(byte[] chunk) {
        byte[] current = chunk;
        for (Slot s : contentSlots()) {
            if (!open()) {
                break;
            }
            if (s.session == null || s.messageDone) {
                continue;
            }
            ByteBuffer view = ByteBuffer.wrap(current).asReadOnlyBuffer();
            EventVerdict v = content(s, f -> f.body(view));
            if (v instanceof EventVerdict.Replace r) {
                current = r.bytes();
            }
        }
        return current;
    }

    /**
     * The end of the message: each filter's verdict in order, combined with what the earlier events decided.
     *
     * @param content the message as a filter sees it, given the header lines added so far; null when cleanup keeps
     *        no copy (only the checks run)
     */
    synchronized Outcome endOfMessage(Envelope envelope, Function<byte[], MessageContent> content) {
        List<Header> added = new ArrayList<>();
        List<HeaderEdit> edits = new ArrayList<>();
        List<String> recipients = new ArrayList<>();
        LinkedHashSet<String> removed = new LinkedHashSet<>();
        List<String> bcc = new ArrayList<>();
        Optional<String> sender = Optional.empty();
        Optional<String> redirect = Optional.empty();
        Optional<String> route = Optional.empty();
        Path body = null;
        Outcome outcome = null;
        try {
            for (Slot s : contentSlots()) {
                if (messageRefusal != null) {
                    outcome = new Outcome.Refuse(messageRefusal);
                    break;
                }
                if (discard) {
                    outcome = new Outcome.Discard();
                    break;
                }
                if (s.skipped || s.messageDone && s.session != null) {
                    continue;
                }
                if (s != checks && s.failure == null && endOnly(s)
                        && (s.session == null || !registry.registered(s.entry.serviceId()))) {
                    // a ContentFilter saw nothing of this message yet: the version installed now handles it
                    closeSession(s);
                    bind(s);
                }
                if (s.session == null || s.entry != null && !registry.registered(s.entry.serviceId())) {
                    String why = s.failure != null ? "failed earlier in this transaction (" + s.failure + ")"
                            : s.entry == null ? "no installed bundle registers " + ContentFilter.NAME + "=" + s.name
                            : "the bundle went away while the message was received";
                    warn("filter " + s.name + ": " + why + " -- message not accepted, try again later");
                    outcome = new Outcome.Refuse(TEMPFAIL);
                    break;
                }
                FilterVerdict verdict;
                try {
                    MessageContent c = content == null ? null : content.apply(FilterHeaderLines.lines(added));
                    verdict = call(s, f -> f.endOfMessage(envelope, c));
                } catch (Failure f) {
                    Optional<Reply> r = failed(s, Stage.CONTENT, f.getMessage());
                    if (r.isPresent()) {
                        outcome = new Outcome.Refuse(r.get());
                        break;
                    }
                    continue;
                }
                String subject = s == checks ? null : s.subject();
                if (verdict instanceof FilterVerdict.Hold h && h.changes().isPresent()) {
                    // held with changes (a milter's quarantine and its modifications): both apply
                    line("hold", subject, h.reason());
                    hold = true;
                    verdict = h.changes().get();
                }
                if (verdict instanceof FilterVerdict.Modify mod) {
                    added.addAll(0, mod.addHeaders());
                    edits.addAll(mod.edits());
                    // a later filter's word wins; one filter adding and removing the same address removes it
                    for (String a : mod.addRecipients()) {
                        removed.removeIf(r -> r.equalsIgnoreCase(a));
                        recipients.add(a);
                    }
                    for (String r : mod.removeRecipients()) {
                        recipients.removeIf(a -> a.equalsIgnoreCase(r));
                        removed.add(r);
                    }
                    bcc.addAll(mod.blindCopies());
                    sender = mod.sender().isPresent() ? mod.sender() : sender;
                    redirect = mod.redirect().isPresent() ? mod.redirect() : redirect;
                    route = mod.route().isPresent() ? mod.route() : route;
                    if (mod.body().isPresent()) {
                        if (body != null) {
                            deleteQuietly(body); // a later filter's body replaces an earlier one's
                        }
                        body = mod.body().get();
                    }
                    if (subject != null) {
                        line("accept", subject, describe(mod));
                    }
                } else if (verdict instanceof FilterVerdict.Accept a) {
                    added.addAll(0, a.addHeaders());
                    if (subject != null) {
                        line("accept", subject, a.addHeaders().isEmpty() ? "no headers added"
                                : "added " + String.join(", ", a.addHeaders().stream().map(Header::name).toList()));
                    }
                } else if (verdict instanceof FilterVerdict.Reject r) {
                    line("reject", subject, r.reply().enhancedStatus() + " " + r.reply().text());
                    outcome = new Outcome.Refuse(r.reply());
                    break;
                } else if (verdict instanceof FilterVerdict.Defer d) {
                    // as Postfix logs a 4xx header_checks action: "reject:" with the 4.x.x status
                    line("reject", subject, d.reply().enhancedStatus() + " " + d.reply().text());
                    outcome = new Outcome.Refuse(d.reply());
                    break;
                } else if (verdict instanceof FilterVerdict.Discard d) {
                    line("discard", subject, d.reason());
                    outcome = new Outcome.Discard();
                    break;
                } else if (verdict instanceof FilterVerdict.Hold h) {
                    line("hold", subject, h.reason());
                    hold = true;
                }
            }
            if (outcome == null && messageRefusal != null) {
                outcome = new Outcome.Refuse(messageRefusal);
            } else if (outcome == null && discard) {
                outcome = new Outcome.Discard();
            }
            if (outcome == null) {
                outcome = new Outcome.Pass(List.copyOf(added), hold, List.copyOf(edits), List.copyOf(recipients),
                        Optional.ofNullable(body), List.copyOf(removed), sender, redirect, route, List.copyOf(bcc));
            }
            return outcome;
        } finally {
            if (!(outcome instanceof Outcome.Pass) && body != null) {
                deleteQuietly(body);
            }
            finishMessage(false);
        }
    }

    /**
     * Message {@code no} (what {@link #data} returned) was thrown away before its end (client gone, size limit,
     * storage): the filters hear ABORT, unless the session moved on to another message already.
     */
    synchronized void abortMessage(int no) {
        if (no == messageNo) {
            finishMessage(true);
        }
    }

    private static String describe(FilterVerdict.Modify mod) {
        List<String> what = new ArrayList<>();
        if (!mod.addHeaders().isEmpty()) {
            what.add("added " + String.join(", ", mod.addHeaders().stream().map(Header::name).toList()));
        }
        if (!mod.edits().isEmpty()) {
            what.add("edited " + String.join(", ", mod.edits().stream()
                    .map(e -> (e.value().isPresent() ? "" : "-") + e.name() + "[" + e.index() + "]").toList()));
        }
        if (!mod.addRecipients().isEmpty()) {
            what.add("added recipients " + String.join(", ", mod.addRecipients()));
        }
        if (!mod.removeRecipients().isEmpty()) {
            what.add("removed recipients " + String.join(", ", mod.removeRecipients()));
        }
        mod.sender().ifPresent(v -> what.add("sender changed to <" + v + ">"));
        mod.redirect().ifPresent(v -> what.add("redirected to " + v));
        mod.route().ifPresent(v -> what.add("routed to " + v));
        if (!mod.blindCopies().isEmpty()) {
            what.add("blind copies to " + String.join(", ", mod.blindCopies()));
        }
        if (mod.body().isPresent()) {
            what.add("replaced the body");
        }
        return what.isEmpty() ? "no changes" : String.join("; ", what);
    }

    private List<Slot> contentSlots() {
        if (checks == null) {
            return slots;
        }
        List<Slot> all = new ArrayList<>(slots.size() + 1);
        all.add(checks);
        all.addAll(slots);
        return all;
    }

    private void contentEvent(Function<FilterSession, EventVerdict> event) {
        for (Slot s : contentSlots()) {
            if (!open()) {
                return;
            }
            if (s.session != null && !s.messageDone) {
                content(s, event);
            }
        }
    }

    /** One content event to one filter: refusals, holds and discards recorded; the verdict for Replace. */
    private EventVerdict content(Slot s, Function<FilterSession, EventVerdict> event) {
        EventVerdict v;
        try {
            v = call(s, event);
        } catch (Failure f) {
            failed(s, Stage.CONTENT, f.getMessage()).ifPresent(r -> messageRefusal = r);
            return EventVerdict.CONTINUE;
        }
        String subject = s == checks ? null : s.subject();
        if (v instanceof EventVerdict.Accept) {
            s.messageDone = true;
        } else if (v instanceof EventVerdict.Reject r) {
            messageRefusal = r.reply();
            if (subject != null) {
                line("reject", subject, r.reply().enhancedStatus() + " " + r.reply().text());
            }
        } else if (v instanceof EventVerdict.Defer d) {
            messageRefusal = d.reply();
            if (subject != null) {
                line("reject", subject, d.reply().enhancedStatus() + " " + d.reply().text());
            }
        } else if (v instanceof EventVerdict.Discard d) {
            discard = true;
            if (subject != null) {
                line("discard", subject, d.reason());
            }
        } else if (v instanceof EventVerdict.Hold h) {
            hold = true;
            if (subject != null) {
                line("hold", subject, h.reason());
            }
        }
        return v;
    }

    // ------------------------------------------------------------------------------------------ sessions

    /** Whether the filter acts only at the end of the message (a {@link ContentFilter}), or is not bound. */
    private static boolean endOnly(Slot s) {
        return s.entry == null || s.entry.service() instanceof ContentFilter;
    }

    private void bind(Slot s) {
        s.sessionAccepted = false;
        s.messageDone = false;
        s.skipped = false;
        s.failure = null;
        Optional<FilterRegistry.Entry> entry = registry.find(s.name);
        s.entry = entry.orElse(null);
        s.session = null;
        if (entry.isEmpty()) {
            return; // refused at the end of the message, if the filter is still missing then
        }
        try {
            s.session = callOpen(s, entry.get());
        } catch (Failure f) {
            failed(s, Stage.MAIL, f.getMessage()); // fail-open or not: decided again at the end of the message
            s.session = null;
        }
    }

    private FilterSession callOpen(Slot s, FilterRegistry.Entry entry) throws Failure {
        FilterSession[] out = new FilterSession[1];
        call(s, ignored -> {
            out[0] = entry.open(context);
            return EventVerdict.CONTINUE;
        });
        return out[0];
    }

    private void closeSession(Slot s) {
        FilterSession session = s.session;
        if (session != null) {
            guarded(s, "closing its session", FilterSession::close);
        }
        s.session = null;
    }

    /**
     * ABORT or close to a filter, under the same watchdog as the events (a filter stuck saying goodbye to its peer
     * must not keep the worker); a failure is logged and otherwise ignored.
     */
    private void guarded(Slot s, String what, java.util.function.Consumer<FilterSession> op) {
        try {
            call(s, f -> {
                op.accept(f);
                return Boolean.TRUE;
            });
        } catch (Failure e) {
            log.warn("{}: {}: {}", s.subject(), what, e.getMessage());
        }
    }

    private void startMessage() {
        messageNo++;
        messageRefusal = null;
        discard = false;
        hold = false;
        pendingLines.clear();
        actions = null;
        checks = null;
        for (Slot s : slots) {
            s.messageDone = false;
            s.skipped = false;
            s.failure = null;
        }
    }

    /** A pending reset (from smtpd) or an ended message: the filters hear ABORT when the message did not end. */
    private void endTransaction() {
        if (resetPending.getAndSet(false) && inTransaction) {
            finishMessage(true);
        }
    }

    private void finishMessage(boolean abort) {
        resetPending.set(false);
        if (!inTransaction) {
            return;
        }
        inTransaction = false;
        if (abort) {
            for (Slot s : contentSlots()) {
                if (s.session != null) {
                    guarded(s, "abort", FilterSession::abort);
                }
            }
        }
        if (checks != null) {
            checks.session.close();
            checks = null;
        }
    }

    /**
     * A filter failed at {@code stage}: its session is closed; fail-open filters are left out of this message
     * (empty), the others refuse with {@link #TEMPFAIL}.
     */
    private Optional<Reply> failed(Slot s, Stage stage, String why) {
        if (s != checks) {
            closeSession(s);
        }
        s.skipped = true;
        s.messageDone = true;
        s.failure = why;
        if (s != checks && settings.failOpen().contains(s.name)) {
            warn(s.subject() + ": " + why + " -- " + FilterSettings.FAIL_OPEN + ": message passed on without this filter");
            return Optional.empty();
        }
        warn(s.subject() + ": " + why + " -- message not accepted, try again later");
        s.skipped = false;
        return Optional.of(TEMPFAIL);
    }

    // ------------------------------------------------------------------------------------------ calls

    /** A filter gave no verdict: the why, for the log. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String why) {
            super(why);
        }
    }

    /** Interrupts the calling thread once, unless disarmed first. */
    private static final class Guard implements Runnable {
        private final Thread thread;
        private boolean armed = true;
        private boolean fired;

        Guard(Thread thread) {
            this.thread = thread;
        }

        @Override
        public synchronized void run() {
            if (armed) {
                fired = true;
                thread.interrupt();
            }
        }

        /** Returns whether the guard fired; after this it never will. */
        synchronized boolean disarm() {
            armed = false;
            return fired;
        }
    }

    /** Calls the filter on this thread with the timeout; null verdicts, exceptions and overruns are failures. */
    private <T> T call(Slot s, Function<FilterSession, T> event) throws Failure {
        if (s == checks) {
            // header/body checks do no I/O of their own (their tables bound their lookups): no watchdog per header
            // and line, as before they became a filter
            try {
                T v = event.apply(s.session);
                if (v == null) {
                    throw new Failure("the checks returned no verdict");
                }
                return v;
            } catch (RuntimeException e) {
                throw new Failure(e.getMessage() != null ? e.getMessage() : e.toString());
            }
        }
        long timeout = settings.timeout().toNanos();
        Guard guard = new Guard(Thread.currentThread());
        ScheduledFuture<?> alarm;
        try {
            alarm = watchdog.schedule(guard, timeout, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            throw new Failure("cleanup is shutting down");
        }
        long start = System.nanoTime();
        T v;
        try {
            v = event.apply(s.session);
        } catch (RuntimeException | LinkageError e) {
            // a LinkageError: the filter's bundle was replaced under it
            throw new Failure(e.getMessage() != null ? e.getMessage() : e.toString());
        } finally {
            alarm.cancel(false);
            if (guard.disarm()) {
                Thread.interrupted(); // our interrupt, not the caller's: the worker goes on
            }
        }
        if (System.nanoTime() - start > timeout) {
            throw new Failure("timeout after " + settings.timeout().toSeconds() + "s (" + FilterSettings.TIMEOUT + ")");
        }
        if (v == null) {
            throw new Failure("the filter returned no verdict");
        }
        return v;
    }

    // ------------------------------------------------------------------------------------------ lines

    /** A message's line; none for a null subject (header/body checks log their own). */
    private void line(String verb, String subject, String detail) {
        if (subject == null) {
            return;
        }
        if (actions != null) {
            actions.action(verb, subject, detail);
        } else {
            pendingLines.add(new String[] {verb, subject, detail});
        }
    }

    private void warn(String text) {
        if (actions != null) {
            actions.warn(text);
        } else {
            log.warn("{}", text);
        }
    }

    /** A complete header's bytes as the field filters see; null when they are no header. */
    static HeaderField field(byte[] raw) {
        String s = new String(raw, StandardCharsets.UTF_8);
        if (s.endsWith("\r\n")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        int colon = s.indexOf(':');
        if (colon <= 0) {
            return null;
        }
        String name = s.substring(0, colon).stripTrailing();
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c > '~')) {
            return null;
        }
        return new HeaderField(name, s.substring(colon + 1));
    }

    /**
     * A filter's replacement for a header, as complete headers: CRLF line ends, empty lines dropped (a filter never
     * ends the header section), continuation lines kept with the header before them.
     */
    static List<byte[]> headers(byte[] replacement) {
        String text = new String(replacement, StandardCharsets.UTF_8).replace("\r\n", "\n").replace('\r', '\n');
        List<byte[]> out = new ArrayList<>();
        StringBuilder current = null;
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            boolean continuation = line.charAt(0) == ' ' || line.charAt(0) == '\t';
            if (!continuation && current != null) {
                out.add(current.toString().getBytes(StandardCharsets.UTF_8));
                current = null;
            }
            if (current == null) {
                current = new StringBuilder();
            }
            current.append(line).append("\r\n");
        }
        if (current != null) {
            out.add(current.toString().getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (java.io.IOException ignored) {
            // a filter's temporary file: its own directory's clean-up
        }
    }
}
