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

import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.InsufficientStorageException;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.queue.Envelope;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cleanup - the {@link Cleanup} service: writes each message to a queue file through the {@link QueueStore},
 * with Postfix's Received header on top, and acknowledges only once the file is durable in {@code incoming/}
 * ({@code hold/} for an access HOLD action). Envelope addresses are rewritten ({@link AddressRewriter}: canonical
 * maps, masquerading, virtual aliases) before the queue file is created; header addresses as the headers stream.
 * Logs as Postfix's cleanup does ({@code ID: message-id=<...>}).
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
        ConfigSnapshot snapshot = config.current();
        CleanupSettings settings = CleanupSettings.from(snapshot);
        Instant arrival = clock.instant();
        // canonical, masquerade and virtual alias rewriting of the envelope: all of it before anything is written
        AddressRewriter rewriter = AddressRewriter.open(snapshot, tables, s);
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
            checks = ContentChecks.open(snapshot, tables).orElse(null);
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
        CleanupStream stream = new CleanupStream(writer, settings, log, arrival, target, checks, s, headerRewriter);
        try {
            StringBuilder top = new StringBuilder();
            for (String p : s.actions().prependHeaders()) {
                top.append(p).append("\r\n");
            }
            top.append(received(s, settings, writer.id(), arrival));
            byte[] b = top.toString().getBytes(StandardCharsets.UTF_8);
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
        if (settings.saslAuthenticatedHeader() && s.client().saslUsername().isPresent()) {
            // Postfix's comment_sanitize() keeps a comment balanced: no parentheses or backslashes of the client's
            sb.append("\t(Authenticated sender: ")
                    .append(s.client().saslUsername().get().replaceAll("[()\\\\\r\n]", "?")).append(")\r\n");
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
