package org.estafeta.queue;

/**
 * What {@code postqueue -f} and {@code postqueue -i ID} ask of the queue manager: deliver deferred mail now.
 * Registered by the qmgr bundle; without it (or while no queue manager runs) postqueue answers
 * {@code Cannot flush mail queue - mail system is down}, as Postfix's does.
 */
@org.osgi.annotation.versioning.ConsumerType
public interface QueueFlush {
    /** Makes every deferred message due now; false when no queue manager is running. */
    boolean flushAll();

    /** Makes one message due now, wherever it waits (deferred, or already on its way); false when none runs. */
    boolean flush(String queueId);
}
