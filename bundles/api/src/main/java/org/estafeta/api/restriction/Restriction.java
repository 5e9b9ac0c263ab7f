package org.estafeta.api.restriction;

import org.estafeta.api.plugin.PluginContext;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A restriction that can appear by name in main.cf's {@code smtpd_client_restrictions},
 * {@code smtpd_helo_restrictions}, {@code smtpd_sender_restrictions} or {@code smtpd_recipient_restrictions}.
 * Register an implementation with {@value #NAME} set to that name (for example {@code reject_rbl_client}).
 *
 * <p><b>Threading:</b> called from many sessions at once. <b>Blocking:</b> allowed (DNS, tables): it runs on the
 * worker pool, never on the network event loop; bound your own waits.
 *
 * <p><b>Errors:</b> an exception becomes {@code 451 4.3.5 Server configuration error} for that command, as
 * Postfix does for a broken restriction; the session continues.
 */
@ConsumerType
public interface Restriction {
    /** Service property naming the restriction. */
    String NAME = "estafeta.restriction";

    /**
     * Service property: how many words after the restriction's name in main.cf belong to it (an Integer, default
     * 0), as {@code reject_rbl_client zen.example.org} takes one. They reach {@link #evaluate} as
     * {@link RestrictionRequest#arguments()}.
     */
    String ARGUMENTS = "estafeta.restriction.arguments";

    RestrictionVerdict evaluate(RestrictionRequest request, PluginContext context);
}
