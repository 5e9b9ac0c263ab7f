package org.estafeta.api.filter;

import org.estafeta.api.plugin.PluginContext;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A filter that follows each SMTP session event by event, as a milter does: the client's connection, HELO, each
 * transaction's MAIL, RCPT and DATA, every header as it arrives, the body in chunks and the end of the message. Its
 * answers take effect at the stage they are given: a refused RCPT refuses that recipient at the RCPT command, a
 * refused header ends the message at the end of DATA without anything being queued.
 *
 * <p>Register an implementation as an OSGi service with {@value #NAME} set to the name the operator lists in
 * {@code estafeta_content_filters}, exactly as a {@link ContentFilter}; the list's order decides the order filters see
 * each event in. A filter that only needs the complete message can stay a {@link ContentFilter}: the gateway runs it
 * at the end of the message in the same chain.
 *
 * <p><b>Threading:</b> {@link #open} and every event of one {@link FilterSession} are called on worker threads, never
 * on a network event loop, one call at a time per session (a session's calls may come from different threads, each
 * call happening after the previous one returned). Different sessions run at the same time. <b>Blocking:</b> allowed,
 * within {@code estafeta_content_filter_timeout} per call; after it the calling thread is interrupted and the filter
 * counts as failed for the message (its failure policy then decides: 451 4.3.0, or passed on without it).
 *
 * @since 1.2
 */
@ConsumerType
public interface SessionFilter {
    /** Service property naming the filter (the same property as {@link ContentFilter#NAME}). */
    String NAME = ContentFilter.NAME;

    /**
     * Starts following one SMTP session, or one locally submitted message (sendmail, pickup), which then gets the
     * events a connection from {@code localhost} with one transaction would. An exception here fails the filter for
     * every message of the session.
     */
    FilterSession open(PluginContext context);
}
