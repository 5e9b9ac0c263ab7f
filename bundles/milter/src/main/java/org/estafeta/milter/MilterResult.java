package org.estafeta.milter;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of the end of a message: the final {@link MilterVerdict} and the modifications the milters asked for
 * (in order; those of a milter whose verdict is final are included). With REJECT, TEMPFAIL, DISCARD or SHUTDOWN the
 * caller ignores the modifications; with QUARANTINE it applies them and holds the message. Close it to delete a
 * spooled body replacement.
 */
public record MilterResult(MilterVerdict verdict, List<MilterAction> actions) implements AutoCloseable {
    public MilterResult {
        Objects.requireNonNull(verdict, "verdict");
        actions = List.copyOf(actions);
    }

    @Override
    public void close() {
        for (MilterAction a : actions) {
            if (a instanceof MilterAction.ReplaceBody r) {
                r.body().close();
            }
        }
    }
}
