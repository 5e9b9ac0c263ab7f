package org.estafeta.queue;

import java.util.Locale;

/** Postfix's queues, each a directory of the same name under {@code queue_directory}. */
public enum QueueName {
    MAILDROP, INCOMING, ACTIVE, DEFERRED, HOLD, CORRUPT;

    /** The directory name ({@code incoming} ...). */
    public String directory() {
        return name().toLowerCase(Locale.ROOT);
    }
}
