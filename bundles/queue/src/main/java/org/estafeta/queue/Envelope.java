package org.estafeta.queue;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The envelope part of a queue file (docs/queue-file-format.md).
 *
 * @param arrivalMicros arrival time, microseconds since the epoch
 * @param sender the envelope sender, empty for the null sender
 * @param mailParameters MAIL FROM's ESMTP parameters, names upper-cased, in the order given
 * @param recipients the recipients with their DSN parameters and status
 * @param client who sent the message
 * @param actions what the access restrictions asked for ({@code hold}, {@code discard}, {@code filter},
 *        {@code redirect}, {@code prepend}), in order; a name may repeat ({@code prepend})
 */
public record Envelope(long arrivalMicros, String sender, Map<String, String> mailParameters,
        List<Recipient> recipients, Client client, List<Action> actions) {

    public Envelope {
        Objects.requireNonNull(sender, "sender");
        mailParameters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(mailParameters));
        recipients = List.copyOf(recipients);
        Objects.requireNonNull(client, "client");
        actions = List.copyOf(actions);
    }

    /** Where a recipient stands: still to be delivered, or done (delivered, bounced or expanded). */
    public enum Status {
        PENDING('-'), DONE('D');

        final char code;

        Status(char code) {
            this.code = code;
        }

        static Status of(char c) {
            for (Status s : values()) {
                if (s.code == c) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown recipient status " + c);
        }
    }

    /**
     * @param address the RCPT TO address
     * @param notifyOn NOTIFY values, empty if not given
     * @param originalRecipient ORCPT as received
     * @param status delivery status
     */
    public record Recipient(String address, List<String> notifyOn, Optional<String> originalRecipient, Status status) {
        public Recipient {
            Objects.requireNonNull(address, "address");
            notifyOn = List.copyOf(notifyOn);
            Objects.requireNonNull(originalRecipient, "originalRecipient");
            Objects.requireNonNull(status, "status");
        }
    }

    /** The client as smtpd saw it ({@code protocol} is SMTP or ESMTP; for local submission {@code address} is empty). */
    public record Client(String address, String name, String helo, String protocol) {
        public Client {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(helo, "helo");
            Objects.requireNonNull(protocol, "protocol");
        }
    }

    /** One access(5) action with its argument. */
    public record Action(String name, String value) {
        public Action {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c > '~')) {
                throw new IllegalArgumentException("bad action name: " + name);
            }
        }
    }
}
