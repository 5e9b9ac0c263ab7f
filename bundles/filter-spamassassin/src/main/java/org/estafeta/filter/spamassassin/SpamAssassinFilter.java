package org.estafeta.filter.spamassassin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import org.estafeta.api.filter.ContentFilter;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * The content filter {@code spamassassin} ({@code estafeta_content_filters = spamassassin}): asks spamd about each
 * message (SPAMC/1.5 {@code HEADERS}, as spamc) and adds the {@code X-Spam-*} fields SpamAssassin wrote
 * ({@code X-Spam-Checker-Version}, {@code X-Spam-Flag}, {@code X-Spam-Level}, {@code X-Spam-Status}) plus
 * {@code X-Spam-Score: SCORE}. At or above {@code spamassassin_reject_score} (default 15; GTUBE scores 1000) the
 * message is rejected with {@code 554 5.7.1 Spam message rejected}; at or above {@code spamassassin_hold_score} it
 * goes on hold (without the X-Spam-* fields: a Hold verdict carries none; the log line has the score). Messages
 * over {@code spamassassin_max_size} pass unchecked, as spamc lets them.
 *
 * <p><b>Threading:</b> called by several cleanup threads at once; each call has its own connection. <b>Blocking:</b>
 * one exchange with spamd, bounded by {@code spamassassin_timeout}. <b>Errors:</b> spamd unreachable, timed out or
 * answering an error throws an {@link UncheckedIOException}: cleanup answers {@code 451 4.3.0}, or passes the
 * message with a warning when {@code spamassassin} is in {@code estafeta_content_filter_fail_open}.
 */
@Component(property = ContentFilter.NAME + "=spamassassin")
public final class SpamAssassinFilter implements ContentFilter {
    static final Reply REJECT = Reply.reject(554, "5.7.1", "Spam message rejected");

    private final ScheduledExecutorService timer;
    private final Spamd spamd;

    @Activate
    public SpamAssassinFilter() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spamassassin-timer");
            t.setDaemon(true);
            return t;
        });
        spamd = new Spamd(timer);
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
    }

    @Override
    public FilterVerdict filter(Envelope envelope, MessageContent content, PluginContext context) {
        SpamAssassinSettings s = SpamAssassinSettings.from(context);
        long size = content.size();
        if (s.maxSize() > 0 && size > s.maxSize()) {
            context.logger().log(System.Logger.Level.INFO, envelope.queueId() + ": spamassassin: not checked: "
                    + "message size " + size + " exceeds " + SpamAssassinSettings.MAX_SIZE + " " + s.maxSize());
            return FilterVerdict.accept();
        }
        Spamd.Result r;
        try (InputStream in = content.openMessage()) {
            r = spamd.headers(s.server(), s.timeout(), s.user(), in, size);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        String score = String.format(Locale.ROOT, "%.1f", r.score());
        if (s.rejectScore().isPresent() && r.score() >= s.rejectScore().get()) {
            return new FilterVerdict.Reject(REJECT);
        }
        List<Header> headers = new ArrayList<>(r.headers());
        headers.add(new Header("X-Spam-Score", score));
        if (s.holdScore().isPresent() && r.score() >= s.holdScore().get()) {
            // held with SpamAssassin's headers, so that whoever looks at the hold queue sees why (api filter 1.2)
            return new FilterVerdict.Hold("spam score " + score + " >= " + SpamAssassinSettings.HOLD_SCORE + " "
                    + s.holdScore().get(), java.util.Optional.of(new FilterVerdict.Accept(headers)));
        }
        return new FilterVerdict.Accept(headers);
    }

    /** Stops the timer (tests; the framework calls {@link #deactivate()}). */
    void close() {
        deactivate();
    }
}
