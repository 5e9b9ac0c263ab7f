package org.estafeta.cleanup.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;


import org.estafeta.api.filter.ContentFilter;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.InsufficientStorageException;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.config.SnapshotPluginContext;
import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.Envelope;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cleanup - the {@link Cleanup} service: writes each message to a queue file through the {@link QueueStore},
 * with Postfix's Received header on top, and acknowledges only once the file is durable in {@code incoming/}
 * ({@code hold/} for an access HOLD action). Envelope addresses are rewritten ({@link AddressRewriter}: canonical
 * maps, masquerading, virtual aliases) before the queue file is created; header addresses as the headers stream.
 * Logs as Postfix's cleanup does ({@code ID: message-id=<...>}).
 *
 * <p>With {@code estafeta_content_filters} (docs/content-filters.md) the message goes to a spool file until it is
 * complete; the named {@link ContentFilter} services then read it there, on cleanup's own filter threads, and their
 * verdicts decide whether it is queued (with their headers on top, or on hold), discarded or refused.
 */
@Component(service = Cleanup.class, immediate = true)
public final class CleanupService implements Cleanup {
    private static final Logger log = LoggerFactory.getLogger("cleanup");
    private static final DateTimeFormatter MAIL_DATE =
            DateTimeFormatter.ofPattern("EEE, ppd MMM yyyy HH:mm:ss xx", Locale.US);

    private final QueueStore store;
    private final ConfigSource config;
    private final java.time.Clock clock;

    /** For header_checks and body_checks; optional so that cleanup works without any table bundle. */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    volatile org.estafeta.tables.TableService tables;

    private final FilterRegistry filters = new FilterRegistry();
    /**
     * Interrupts a filter call that overran {@code estafeta_content_filter_timeout} (filters run on the caller's
     * worker thread, never on an event loop).
     */
    private final java.util.concurrent.ScheduledThreadPoolExecutor watchdog = watchdog();

    private static java.util.concurrent.ScheduledThreadPoolExecutor watchdog() {
        var w = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "cleanup-filter-watchdog");
            t.setDaemon(true);
            return t;
        });
        w.setRemoveOnCancelPolicy(true);
        return w;
    }

    @Reference(service = ContentFilter.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void addFilter(ContentFilter filter, ServiceReference<ContentFilter> ref) {
        register(filter, ref);
    }

    void removeFilter(ContentFilter filter, ServiceReference<ContentFilter> ref) {
        filters.remove(((Number) ref.getProperty(Constants.SERVICE_ID)).longValue());
    }

    @Reference(service = org.estafeta.api.filter.SessionFilter.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void addSessionFilter(org.estafeta.api.filter.SessionFilter filter,
            ServiceReference<org.estafeta.api.filter.SessionFilter> ref) {
        register(filter, ref);
    }

    void removeSessionFilter(org.estafeta.api.filter.SessionFilter filter,
            ServiceReference<org.estafeta.api.filter.SessionFilter> ref) {
        filters.remove(((Number) ref.getProperty(Constants.SERVICE_ID)).longValue());
    }

    private void register(Object filter, ServiceReference<?> ref) {
        Object name = ref.getProperty(ContentFilter.NAME);
        if (!(name instanceof String n) || n.isBlank()) {
            log.warn("content filter service {} has no {} property; ignored", ref.getProperty(Constants.SERVICE_ID),
                    ContentFilter.NAME);
            return;
        }
        Object ranking = ref.getProperty(Constants.SERVICE_RANKING);
        Bundle b = ref.getBundle();
        String origin = b == null ? "unknown bundle" : b.getSymbolicName() + " " + b.getVersion();
        filters.add(new FilterRegistry.Entry(n.strip(), filter, origin, ranking instanceof Integer i ? i : 0,
                ((Number) ref.getProperty(Constants.SERVICE_ID)).longValue()));
    }

    /** For tests: a filter registered under {@code name} by {@code origin} ({@code symbolic-name version}). */
    void registerFilter(String name, ContentFilter filter, String origin) {
        filters.add(new FilterRegistry.Entry(name, filter, origin, 0, nextTestId--));
    }

    /** For tests: a session filter registered under {@code name} by {@code origin}. */
    void registerFilter(String name, org.estafeta.api.filter.SessionFilter filter, String origin) {
        filters.add(new FilterRegistry.Entry(name, filter, origin, 0, nextTestId--));
    }

    /** For tests: the registration of {@code name} goes away (its bundle stopped). */
    void unregisterFilter(String name) {
        filters.find(name).ifPresent(e -> filters.remove(e.serviceId()));
    }

    private long nextTestId = -1;

    @Deactivate
    void deactivate() {
        watchdog.shutdownNow();
    }

    @org.osgi.service.component.annotations.Activate
    public CleanupService(@Reference QueueStore store, @Reference ConfigSource config) {
        this(store, config, java.time.Clock.systemDefaultZone());
    }

    CleanupService(QueueStore store, ConfigSource config, java.time.Clock clock) {
        this.store = store;
        this.config = config;
        this.clock = clock;
    }

    @Override
    public Stream open(Submission s) throws IOException {
        return open(s, null);
    }

    @Override
    public Stream open(Submission s, ConfigSnapshot service) throws IOException {
        return open(s, service, false, null);
    }

    @Override
    public Stream open(Submission s, ConfigSnapshot service, org.estafeta.cleanup.FilterChannel channel)
            throws IOException {
        return open(s, service, false, channel);
    }

    @Override
    public Stream openInternal(Submission s) throws IOException {
        return open(s, null, true, null);
    }

    @Override
    public java.util.Optional<org.estafeta.cleanup.FilterChannel> filters(ConfigSnapshot service) {
        ConfigSnapshot own = service != null ? service : config.current();
        FilterSettings settings;
        try {
            settings = FilterSettings.from(own).withMilters(own, false, ReceiveOverrides.from(own).noMilters());
        } catch (IllegalArgumentException e) {
            // the session goes on without; each message is refused at cleanup with the same warning
            log.warn("{}", e.getMessage());
            return java.util.Optional.empty();
        }
        if (!settings.active()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(chain(settings, own));
    }

    private SessionChain chain(FilterSettings settings, ConfigSnapshot own) {
        return new SessionChain(settings, filters, watchdog, new SnapshotPluginContext(own, "cleanup", clock), log);
    }

    private Stream open(Submission s, ConfigSnapshot service, boolean internal,
            org.estafeta.cleanup.FilterChannel channel) throws IOException {
        ConfigSnapshot snapshot = config.current();
        ConfigSnapshot own = service != null ? service : snapshot;
        CleanupSettings settings = CleanupSettings.from(snapshot);
        FilterSettings filterSettings;
        try {
            // internal mail (bounces, notices) is not filtered: Postfix's internal_mail_filter_classes is empty
            filterSettings = internal ? FilterSettings.NONE : FilterSettings.from(own);
        } catch (IllegalArgumentException e) {
            log.warn("{} -- message not accepted, try again later", e.getMessage());
            throw new IOException(e.getMessage(), e);
        }
        ReceiveOverrides overrides;
        try {
            // the receiving service's receive_override_options; internal mail is no service's
            overrides = internal ? ReceiveOverrides.NONE : ReceiveOverrides.from(own);
        } catch (IllegalArgumentException e) {
            log.warn("{} -- message not accepted, try again later", e.getMessage());
            throw new IOException(e.getMessage(), e);
        }
        if (!internal) {
            filterSettings = filterSettings.withMilters(own, s.local().isPresent(), overrides.noMilters());
        }
        Instant arrival = clock.instant();
        // canonical, masquerade and virtual alias rewriting of the envelope: all of it before anything is written
        boolean mappings = !overrides.noAddressMappings();
        AddressRewriter rewriter = AddressRewriter.open(snapshot, tables, s, mappings);
        String sender;
        List<Envelope.Recipient> rcpts;
        try {
            sender = rewriter.sender(s.sender());
            rcpts = rewriter.recipients(s.recipients());
            List<Envelope.Recipient> bcc = rewriter.blindCopies(sender, rcpts);
            if (!bcc.isEmpty()) {
                rcpts = new ArrayList<>(rcpts);
                rcpts.addAll(bcc);
            }
        } catch (IOException | RuntimeException e) {
            rewriter.close();
            log.warn("{} -- message not accepted, try again later", e.getMessage());
            throw new IOException(e.getMessage(), e);
        }
        AddressRewriter headerRewriter = rewriter.rewritesHeaders() ? rewriter : null;
        if (headerRewriter == null) {
            rewriter.close();
        }
        List<Envelope.Action> actions = new ArrayList<>();
        s.actions().hold().ifPresent(v -> actions.add(new Envelope.Action("hold", v)));
        s.actions().discard().ifPresent(v -> actions.add(new Envelope.Action("discard", v)));
        s.actions().filter().ifPresent(v -> actions.add(new Envelope.Action("filter", v)));
        s.actions().redirect().ifPresent(v -> actions.add(new Envelope.Action("redirect", v)));
        s.actions().prependHeaders().forEach(v -> actions.add(new Envelope.Action("prepend", v)));
        Envelope envelope = new Envelope(arrival.getEpochSecond() * 1_000_000 + arrival.getNano() / 1_000, sender,
                Map.copyOf(s.mailParameters()), rcpts,
                new Envelope.Client(s.client().address(), s.client().hostname(), s.client().helo(), s.protocol()),
                actions);
        ContentChecks checks;
        try {
            checks = overrides.noHeaderBodyChecks() ? null : ContentChecks.open(snapshot, tables).orElse(null);
        } catch (org.estafeta.api.table.TableOpenException e) {
            // a broken check table must not let mail pass unchecked: the client hears 451 and tries again
            log.warn("{}", e.getMessage());
            if (headerRewriter != null) {
                headerRewriter.close();
            }
            throw new IOException(e.getMessage(), e);
        }
        QueueStore.Writer writer;
        try {
            writer = store.create(envelope);
        } catch (IOException e) {
            if (checks != null) {
                checks.close();
            }
            if (headerRewriter != null) {
                headerRewriter.close();
            }
            log.warn("queue file create error: {}: {}", store.directory(), e.getMessage());
            throw QueueStore.isStorageShortage(e)
                    ? new InsufficientStorageException("queue file create error: " + e.getMessage(), e) : e;
        }
        QueueName target = s.actions().hold().isPresent() ? QueueName.HOLD : QueueName.INCOMING;
        StringBuilder top = new StringBuilder();
        for (String p : s.actions().prependHeaders()) {
            top.append(p).append("\r\n");
        }
        top.append(received(s, settings, writer.id(), arrival));
        byte[] b = top.toString().getBytes(StandardCharsets.UTF_8);
        // the filter chain: the session's (smtpd) or one for this message alone, with header/body checks first
        SessionChain chain = channel instanceof SessionChain sc ? sc : null;
        boolean ownChain = false;
        org.estafeta.api.message.Reply replayRefusal = null;
        if (chain == null && (filterSettings.active() || checks != null)) {
            chain = chain(filterSettings, own);
            ownChain = true;
            replayRefusal = replay(chain, s);
        }
        CleanupStream.Filtering filtering = null;
        if (chain != null) {
            try {
                Spool spool = chain.hasFilters()
                        ? Spool.create(store.directory().resolve(FileQueueStore.WORK_DIRECTORY), writer.id()) : null;
                filtering = new CleanupStream.Filtering(chain, ownChain,
                        new org.estafeta.api.message.Envelope(writer.id(), sender, filterRecipients(rcpts, s),
                                s.client()),
                        b, spool);
            } catch (IOException | RuntimeException e) {
                writer.abort();
                if (checks != null) {
                    checks.close();
                }
                if (headerRewriter != null) {
                    headerRewriter.close();
                }
                if (ownChain) {
                    chain.close();
                }
                log.warn("{}: filter spool create error: {}", writer.id(), e.getMessage());
                throw e instanceof IOException io && QueueStore.isStorageShortage(io)
                        ? new InsufficientStorageException("queue file write error: " + e.getMessage(), e)
                        : e instanceof IOException io2 ? io2 : new IOException(e);
            }
        }
        CleanupStream stream = new CleanupStream(writer, settings, log, arrival, target, s, headerRewriter,
                filtering);
        if (chain != null) {
            HeaderBodyChecks hbc = null;
            if (checks != null) {
                stream.closeWith(checks);
                // the checks' warnings are Postfix's own lines (no queue ID); the chain's name the message
                hbc = new HeaderBodyChecks(checks, actionLog(stream, ""), target == QueueName.HOLD);
            }
            int no = chain.data(writer.id(), hbc, actionLog(stream, writer.id() + ": "));
            stream.chainMessage(no);
            if (replayRefusal != null) {
                chain.refuse(replayRefusal);
            }
            var atData = chain.refusal();
            if (!ownChain && atData.isPresent()) {
                // smtpd's session: a refusal of DATA is answered at DATA (Postfix's milter DATA reply)
                stream.abort();
                throw new Cleanup.RefusedAtOpen(atData.get());
            }
        }
        List<Envelope.Recipient> queued = rcpts;
        stream.blindCopies(addresses -> {
            try (AddressRewriter bcc = AddressRewriter.open(snapshot, tables, s, mappings)) {
                return bcc.headerBlindCopies(addresses, queued);
            }
        });
        try {
            writer.write(b, 0, b.length);
        } catch (IOException | RuntimeException e) {
            stream.abort();
            throw e instanceof IOException io && QueueStore.isStorageShortage(io)
                    ? new InsufficientStorageException("queue file write error: " + e.getMessage(), e)
                    : e instanceof IOException io2 ? io2 : new IOException(e);
        }
        s.actions().hold().ifPresent(reason -> log.info("{}: hold: {}", writer.id(), reason));
        s.actions().discard().ifPresent(reason -> {
            // access(5) DISCARD: the client hears 250, the message is never queued
            log.info("{}: discard: {}", writer.id(), reason);
            stream.discard();
        });
        return stream;
    }

    /** The lines of one message's filters: their actions in cleanup's shape, their warnings after {@code prefix}. */
    private static SessionChain.ActionLog actionLog(CleanupStream stream, String prefix) {
        return new SessionChain.ActionLog() {
            @Override
            public void action(String verb, String subject, String detail) {
                stream.logAction(verb, subject, detail);
            }

            @Override
            public void warn(String text) {
                log.warn("{}{}", prefix, text);
            }
        };
    }

    /**
     * The command events for a message whose session no filter followed (local submission, or smtpd mail while the
     * service had no filters when the session began): CONNECT (for local submission {@code localhost}), HELO, MAIL,
     * each RCPT, as Postfix's cleanup plays them to non_smtpd_milters. Returns the first refusal: the message's.
     */
    private static org.estafeta.api.message.Reply replay(SessionChain chain, Submission s) {
        org.estafeta.api.message.ClientInfo client = s.local().isPresent()
                ? new org.estafeta.api.message.ClientInfo("127.0.0.1", "localhost", "localhost", false,
                        java.util.Optional.empty())
                : s.client();
        var r = chain.connect(client);
        if (r.isEmpty()) {
            r = chain.helo(client.helo().isEmpty() ? client.hostname() : client.helo());
        }
        if (r.isEmpty()) {
            r = chain.mail(s.sender(), s.mailParameters());
        }
        for (Submission.Recipient rcpt : s.recipients()) {
            if (r.isPresent()) {
                break;
            }
            r = chain.rcpt(rcpt.address(), java.util.Map.of());
        }
        return r.map(org.estafeta.cleanup.FilterChannel.Refusal::reply).orElse(null);
    }

    /**
     * The recipients content filters see: those of the queue file (after canonical and virtual alias rewriting, with
     * always_bcc); the submitted ones should rewriting have left none (the api's envelope never is empty).
     */
    private static List<String> filterRecipients(List<Envelope.Recipient> queued, Submission s) {
        List<String> out = queued.stream().map(Envelope.Recipient::address).toList();
        return out.isEmpty() ? s.recipients().stream().map(Submission.Recipient::address).toList() : out;
    }

    /**
     * Postfix's smtpd Received header, folded as Postfix folds it; for local submission pickup's, which names the
     * user ID only ({@code Received: by HOST (Postfix, from userid 1000)}).
     */
    static String received(Submission s, CleanupSettings settings, String id, Instant arrival) {
        if (s.local().isPresent()) {
            return "Received: by " + settings.myhostname() + " (" + settings.mailName() + ", from userid "
                    + s.local().get().uid() + ")\r\n\tid " + id + "; " + mailDate(arrival) + "\r\n";
        }
        String helo = s.client().helo().isEmpty() ? s.client().hostname() : s.client().helo();
        StringBuilder sb = new StringBuilder();
        sb.append("Received: from ").append(helo).append(" (").append(s.client().hostname()).append(" [")
                .append(s.client().address()).append("])\r\n");
        for (String comment : s.receivedComments()) {
            // smtpd's TLS and SASL comments (smtpd_tls_received_header, smtpd_sasl_authenticated_header)
            sb.append('\t').append(comment.replace('\r', '?').replace('\n', '?')).append("\r\n");
        }
        boolean esmtp = s.protocol().equals("ESMTP");
        sb.append("\tby ").append(settings.myhostname()).append(" (").append(settings.mailName()).append(") with ")
                .append(s.protocol())
                // RFC 3848, as Postfix: ESMTPS after STARTTLS, ESMTPA after AUTH, ESMTPSA both (HELO clients stay SMTP)
                .append(s.client().tls() && esmtp ? "S" : "")
                .append(s.client().saslUsername().isPresent() && esmtp ? "A" : "").append(" id ").append(id);
        if (s.recipients().size() == 1) {
            sb.append("\r\n\tfor <").append(s.recipients().get(0).address()).append(">; ").append(mailDate(arrival));
        } else {
            sb.append(";\r\n\t").append(mailDate(arrival));
        }
        return sb.append("\r\n").toString();
    }

    /** Postfix's mail_date(): {@code Tue,  3 Nov 2026 05:28:15 +0000 (UTC)}, in local time. */
    static String mailDate(Instant t) {
        ZonedDateTime z = t.atZone(ZoneId.systemDefault());
        return MAIL_DATE.format(z) + " (" + z.getZone().getDisplayName(TextStyle.SHORT, Locale.US) + ")";
    }
}
