package org.estafeta.dns;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The answer to one DNS question: {@link Found}, {@link NotFound} or {@link TemporaryFailure}.
 *
 * @param <T> the value type: {@link java.net.InetAddress} for A/AAAA, {@link MxRecord} for MX, {@link String}
 *            for PTR (a host name) and TXT (the strings of one record, joined)
 */
public sealed interface DnsResult<T> permits DnsResult.Found, DnsResult.NotFound, DnsResult.TemporaryFailure {

    /** The question, as log lines write it: {@code example.com/MX}, {@code 10.2.0.192.in-addr.arpa/PTR}. */
    String query();

    Outcome outcome();

    /** The values when {@link Outcome#FOUND}, else an empty list. */
    List<T> values();

    default boolean isFound() {
        return outcome() == Outcome.FOUND;
    }

    default boolean isNotFound() {
        return outcome() == Outcome.NOT_FOUND;
    }

    default boolean isTemporaryFailure() {
        return outcome() == Outcome.TEMPORARY_FAILURE;
    }

    /** Why there is nothing (a definite, permanent answer). */
    enum NotFoundReason {
        /** The name does not exist (NXDOMAIN). */
        NXDOMAIN,
        /** The name exists but has no records of the type asked for (NOERROR with an empty answer). */
        NO_DATA,
        /** The name is not a valid domain name (too long, empty label ...); nothing was sent. */
        MALFORMED_NAME
    }

    /**
     * The records exist.
     *
     * @param values never empty; MX sorted by preference, others in the server's order
     * @param ttl the smallest TTL of the records as the server gave it (a cached answer keeps the TTL it came with)
     */
    record Found<T>(String query, List<T> values, Duration ttl) implements DnsResult<T> {
        public Found {
            Objects.requireNonNull(query, "query");
            Objects.requireNonNull(ttl, "ttl");
            values = List.copyOf(values);
            if (values.isEmpty()) {
                throw new IllegalArgumentException("a found answer has values: " + query);
            }
        }

        @Override
        public Outcome outcome() {
            return Outcome.FOUND;
        }
    }

    /** A definite answer that there is nothing; see {@link NotFoundReason}. */
    record NotFound<T>(String query, NotFoundReason reason) implements DnsResult<T> {
        public NotFound {
            Objects.requireNonNull(query, "query");
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public Outcome outcome() {
            return Outcome.NOT_FOUND;
        }

        @Override
        public List<T> values() {
            return List.of();
        }
    }

    /**
     * No definite answer.
     *
     * @param reason for log lines and SMTP replies: {@code timeout after 5s}, {@code SERVFAIL}, {@code REFUSED},
     *               {@code network: Connection refused} ...
     */
    record TemporaryFailure<T>(String query, String reason) implements DnsResult<T> {
        public TemporaryFailure {
            Objects.requireNonNull(query, "query");
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public Outcome outcome() {
            return Outcome.TEMPORARY_FAILURE;
        }

        @Override
        public List<T> values() {
            return List.of();
        }
    }
}
