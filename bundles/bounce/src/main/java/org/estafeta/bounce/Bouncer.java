package org.estafeta.bounce;

import java.io.IOException;
import java.util.Optional;

/**
 * Sends delivery status notifications, as Postfix's bounce daemon does for qmgr: a non-delivery report (or a
 * delay warning, or a success report for {@code NOTIFY=SUCCESS}) to the envelope sender, a double bounce to
 * {@code 2bounce_notice_recipient} when the sender is the null sender or the report itself cannot be delivered,
 * and the copies {@code notify_classes} asks for ({@code bounce}: headers only, to
 * {@code bounce_notice_recipient}; {@code delay}: to {@code delay_notice_recipient}).
 *
 * <p>Honours the original's DSN requests: {@code NOTIFY=NEVER} or a {@code NOTIFY} list without the event sends
 * nothing to the sender; {@code RET=HDRS} returns only the headers; {@code ENVID} and {@code ORCPT} are echoed in
 * the report's per-message and per-recipient fields.
 *
 * <p><b>Threading and blocking:</b> any thread; blocks while the report is written to the queue.
 */
public interface Bouncer {
    /**
     * Writes and queues the report for {@code notice}. Returns the queue ID of the report sent to the sender,
     * empty when none was due (NOTIFY said never, or no recipient of the notice asked for it; the postmaster copies
     * may still have been sent).
     *
     * @throws IOException when the report could not be queued; the caller keeps the original message and tries
     *         again later (a bounce is never lost silently)
     */
    Optional<String> notify(Notice notice) throws IOException;
}
