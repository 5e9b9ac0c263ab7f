package org.estafeta.filter.clamav;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import org.estafeta.api.filter.ContentFilter;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * The content filter {@code clamav} ({@code estafeta_content_filters = clamav}): streams each message to clamd with
 * INSTREAM and acts on the answer. Clean mail passes unchanged; infected mail is rejected with
 * {@code 554 5.7.1 Virus found: NAME}, held or discarded ({@code clamav_action}). See docs/content-filters.md.
 *
 * <p><b>Threading:</b> called by several cleanup threads at once; each call has its own connection. <b>Blocking:</b>
 * one exchange with clamd, bounded by {@code clamav_timeout} (the timer closes the socket when it passes).
 * <b>Errors:</b> clamd unreachable, timed out, or answering an error (including {@code INSTREAM size limit exceeded})
 * throws an {@link UncheckedIOException}; cleanup then answers {@code 451 4.3.0}, or passes the message with a
 * warning when the operator lists {@code clamav} in {@code estafeta_content_filter_fail_open}. Infected mail is never
 * accepted silently.
 */
@Component(property = ContentFilter.NAME + "=clamav")
public final class ClamavFilter implements ContentFilter {
    private final ScheduledExecutorService timer;
    private final Clamd clamd;

    @Activate
    public ClamavFilter() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "clamav-timer");
            t.setDaemon(true);
            return t;
        });
        clamd = new Clamd(timer);
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
    }

    @Override
    public FilterVerdict filter(Envelope envelope, MessageContent content, PluginContext context) {
        ClamavSettings s = ClamavSettings.from(context);
        Clamd.Result result;
        try (InputStream in = content.openMessage()) {
            result = clamd.scan(s.server(), s.timeout(), in);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        if (result instanceof Clamd.Result.Infected infected) {
            String name = infected.name();
            return switch (s.action()) {
                case REJECT -> new FilterVerdict.Reject(Reply.reject(554, "5.7.1", "Virus found: " + name));
                case HOLD -> new FilterVerdict.Hold("virus found: " + name);
                case DISCARD -> new FilterVerdict.Discard("virus found: " + name);
            };
        }
        return new FilterVerdict.Accept(List.of());
    }

    /** Stops the timer (tests; the framework calls {@link #deactivate()}). */
    void close() {
        deactivate();
    }
}
