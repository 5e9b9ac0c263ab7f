package org.estafeta.api.filter;

import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.plugin.PluginContext;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Inspects a message after it is received and before it is queued (header and body checks, spam and virus
 * scanners). Register an implementation as an OSGi service with {@value #NAME} set to the name the operator
 * lists in main.cf; the order of that list, never the order of installation, decides the order filters run in.
 *
 * <p><b>Threading:</b> called from several worker threads at once, one message per call. <b>Blocking:</b>
 * allowed (a scanner may talk to its daemon), with the filter's own timeout.
 *
 * <p><b>Errors:</b> an exception is treated as {@link FilterVerdict.Defer} with {@code 451 4.3.0}: mail is never
 * passed on unfiltered because a filter failed, unless the operator configured that filter to fail open.
 */
@ConsumerType
public interface ContentFilter {
    /** Service property naming the filter. */
    String NAME = "estafeta.filter";

    FilterVerdict filter(Envelope envelope, MessageContent content, PluginContext context);
}
