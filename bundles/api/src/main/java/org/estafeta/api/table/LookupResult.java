package org.estafeta.api.table;

import java.util.Objects;

/**
 * The outcome of one lookup: {@link Found}, {@link NotFound}, or {@link TemporaryFailure}. There is no fourth
 * outcome and no {@code null}: a table that cannot answer right now (a database down, a file being rewritten)
 * says so, and the gateway answers the client with a 4xx instead of treating the key as absent.
 */
public sealed interface LookupResult permits LookupResult.Found, LookupResult.NotFound, LookupResult.TemporaryFailure {

    /** The key is in the table and maps to {@code value} (for example {@code smtp:[relay.example.com]}). */
    record Found(String value) implements LookupResult {
        public Found {
            Objects.requireNonNull(value, "value");
        }
    }

    /** The key is not in the table. */
    record NotFound() implements LookupResult {
    }

    /** The table could not answer now; {@code reason} names the cause for the log (never shown to clients). */
    record TemporaryFailure(String reason) implements LookupResult {
        public TemporaryFailure {
            Objects.requireNonNull(reason, "reason");
        }
    }

    NotFound NOT_FOUND = new NotFound();

    static LookupResult found(String value) {
        return new Found(value);
    }

    static LookupResult notFound() {
        return NOT_FOUND;
    }

    static LookupResult temporaryFailure(String reason) {
        return new TemporaryFailure(reason);
    }
}
