package org.estafeta.api.transport;

import java.util.List;
import org.estafeta.api.plugin.PluginContext;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Delivers mail, as Postfix's smtp, lmtp, local or pipe programs do. Register an implementation as an OSGi
 * service with {@value #NAME} set to the name used in master.cf's command column and in transport table
 * results (for example {@code smtp} for {@code smtp:[relay.example.com]}).
 *
 * <p><b>Threading:</b> the queue manager calls {@link #deliver} from several worker threads at once, up to the
 * destination's concurrency limit. <b>Blocking:</b> allowed; the call may take as long as the remote takes, but
 * the transport must apply its own timeouts (a peer that hangs must end in a deferral, not a stuck worker).
 *
 * <p><b>Errors:</b> the result names the fate of every recipient of the request. A recipient missing from the
 * result, or an exception thrown, defers every recipient without a result with {@code 4.3.0}; mail is never
 * lost or bounced because of a transport's bug.
 */
@ConsumerType
public interface Transport {
    /** Service property naming the transport. */
    String NAME = "estafeta.transport";

    List<RecipientResult> deliver(DeliveryRequest request, PluginContext context);
}
