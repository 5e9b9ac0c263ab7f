package org.estafeta.bounce.internal;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.bounce.Bouncer;
import org.estafeta.bounce.Notice;
import org.estafeta.bounce.Notice.Kind;
import org.estafeta.bounce.Notice.RecipientStatus;
import org.estafeta.bounce.internal.Report.Template;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * bounce - the {@link Bouncer} service: decides who gets a report, as Postfix's bounce_notify_service.c
 * (non-delivery), bounce_warn_service.c (delay) and bounce_trace_service.c (success) do, and submits each report
 * through {@link Cleanup}. Logs with the logger {@code bounce} in Postfix's words
 * ({@code ID: sender non-delivery notification: NEWID}).
 *
 * <p>Who gets what:
 * <ul>
 * <li>an ordinary sender: the report with the recipients whose NOTIFY asks for the event, from the null sender;
 *     then, if it was queued (or none was due), the {@code bounce} or {@code delay} postmaster copy with every
 *     recipient and the original's headers only, from {@code double_bounce_sender}. A failed copy is only
 *     logged, as in Postfix.</li>
 * <li>the null sender (a bounce that failed): a failure goes to {@code 2bounce_notice_recipient} when
 *     {@code notify_classes} has {@code 2bounce} or {@code bounce}, a delay to {@code delay_notice_recipient} when
 *     it has {@code delay}, a success to {@code 2bounce_notice_recipient} when it has {@code 2bounce}; otherwise
 *     nothing is sent.</li>
 * <li>{@code double_bounce_sender}: nothing, ever (no triple bounce).</li>
 * </ul>
 */
@Component(service = Bouncer.class, immediate = true)
public final class BounceService implements Bouncer {
    /** Local submissions have no SMTP client; cleanup's Received header names the loopback. */
    private static final ClientInfo LOCAL = new ClientInfo("127.0.0.1", "localhost", "", false, Optional.empty());

    private final Cleanup cleanup;
    private final Logger log;
    private final Clock clock;

    @Activate
    public BounceService(@Reference Cleanup cleanup) {
        this(cleanup, LoggerFactory.getLogger("bounce"), Clock.systemDefaultZone());
    }

    BounceService(Cleanup cleanup, Logger log, Clock clock) {
        this.cleanup = cleanup;
        this.log = log;
        this.clock = clock;
    }

    @Override
    public Optional<String> notify(Notice notice) throws IOException {
        BounceSettings s = BounceSettings.from(notice.config());
        String id = notice.queueId();
        String sender = notice.sender();
        if (s.isDoubleBounce(sender)) {
            // the double bounce failed: never a triple bounce
            if (notice.kind() == Kind.SUCCESS) {
                log.info("{}: not sending trace/success notification for double-bounce message", id);
            } else {
                log.warn("{}: undeliverable postmaster notification discarded", id);
            }
            return Optional.empty();
        }
        if (sender.isEmpty()) {
            return nullSender(notice, s);
        }
        Template template = template(notice.kind());
        List<RecipientStatus> wanted = notice.recipients().stream().filter(r -> wants(r, notice.kind())).toList();
        Optional<String> newId = Optional.empty();
        if (!wanted.isEmpty()) {
            boolean hdrs = notice.kind() != Kind.FAILURE
                    || notice.mailParameters().getOrDefault("RET", "").equalsIgnoreCase("HDRS");
            newId = Optional.of(submit("", sender, new Report(notice, s, template, false, wanted, hdrs, clock)));
            log.info("{}: sender {} notification: {}", id, eventName(notice.kind()), newId.get());
        }
        String copyClass = notice.kind() == Kind.FAILURE ? "bounce" : notice.kind() == Kind.DELAY ? "delay" : null;
        if (copyClass != null && s.notifyClasses().contains(copyClass)) {
            String postmaster = copyClass.equals("bounce") ? s.bounceRecipient() : s.delayRecipient();
            try {
                String copyId = submit(s.doubleBounceAddress(), postmaster,
                        new Report(notice, s, template, true, notice.recipients(), true, clock));
                log.info("{}: postmaster {} notification: {}", id, eventName(notice.kind()), copyId);
            } catch (IOException e) {
                log.warn("{}: postmaster notice failed while {} {}: {}", id,
                        copyClass.equals("bounce") ? "bouncing to" : "warning", sender, e.getMessage());
            }
        }
        return newId;
    }

    /** A report about a message from the null sender: to the postmaster, or nowhere. */
    private Optional<String> nullSender(Notice notice, BounceSettings s) throws IOException {
        String id = notice.queueId();
        Template template = template(notice.kind());
        switch (notice.kind()) {
            case FAILURE -> {
                if (!s.notifyClasses().contains("2bounce") && !s.notifyClasses().contains("bounce")) {
                    log.info("{}: undeliverable bounce discarded", id);
                    return Optional.empty();
                }
                String newId = submit(s.doubleBounceAddress(), s.doubleBounceRecipient(),
                        new Report(notice, s, template, true, notice.recipients(), false, clock));
                log.info("{}: postmaster non-delivery notification: {}", id, newId);
                return Optional.of(newId);
            }
            case DELAY -> {
                if (!s.notifyClasses().contains("delay")) {
                    return Optional.empty();
                }
                String newId = submit(s.doubleBounceAddress(), s.delayRecipient(),
                        new Report(notice, s, template, true, notice.recipients(), false, clock));
                log.info("{}: postmaster delay notification: {}", id, newId);
                return Optional.of(newId);
            }
            default -> {
                if (!s.notifyClasses().contains("2bounce")) {
                    log.info("{}: not sending trace/success notification for single-bounce message", id);
                    return Optional.empty();
                }
                List<RecipientStatus> wanted = notice.recipients().stream().filter(r -> wants(r, Kind.SUCCESS))
                        .toList();
                if (wanted.isEmpty()) {
                    return Optional.empty();
                }
                String newId = submit(s.doubleBounceAddress(), s.doubleBounceRecipient(),
                        new Report(notice, s, template, false, wanted, true, clock));
                log.info("{}: sender delivery status notification: {}", id, newId);
                return Optional.of(newId);
            }
        }
    }

    /**
     * Whether the recipient's NOTIFY asks for a report of this event. Without NOTIFY, Postfix reports failures and
     * delays, not successes; NEVER asks for nothing.
     */
    static boolean wants(RecipientStatus r, Kind kind) {
        if (r.notifyOn().isEmpty()) {
            return kind != Kind.SUCCESS;
        }
        return r.notifyOn().stream().anyMatch(v -> v.strip().equalsIgnoreCase(kind.name()));
    }

    private static Template template(Kind kind) {
        return switch (kind) {
            case FAILURE -> Template.FAILURE;
            case DELAY -> Template.DELAY;
            case SUCCESS -> Template.SUCCESS;
        };
    }

    private static String eventName(Kind kind) {
        return switch (kind) {
            case FAILURE -> "non-delivery";
            case DELAY -> "delay";
            case SUCCESS -> "delivery status";
        };
    }

    /**
     * Queues one report. Returns its queue ID; an I/O error propagates, a rejection by cleanup becomes an
     * {@link IOException} with the reply text.
     */
    private String submit(String envelopeSender, String recipient, Report report) throws IOException {
        Map<String, String> params = new HashMap<>();
        if (report.eightBit()) {
            params.put("BODY", "8BITMIME");
        }
        if (report.smtputf8()) {
            params.put("SMTPUTF8", "");
        }
        Submission submission = new Submission(envelopeSender, params,
                List.of(new Submission.Recipient(recipient, List.of(), Optional.empty())), LOCAL, "ESMTP",
                Submission.Actions.NONE);
        Cleanup.Stream stream = cleanup.openInternal(submission);
        boolean done = false;
        try {
            OutputStream out = new BufferedOutputStream(new StreamOutput(stream), 8192);
            report.write(recipient, out);
            out.flush();
            String newId = stream.commit();
            done = true;
            return newId;
        } catch (Cleanup.Rejected e) {
            done = true;
            throw new IOException(e.reply().toString(), e);
        } finally {
            if (!done) {
                stream.abort();
            }
        }
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
