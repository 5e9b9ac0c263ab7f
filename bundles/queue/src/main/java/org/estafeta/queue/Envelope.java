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

    /**
     * This envelope with the records of the extracted segment after its own (recipients appended, actions appended,
     * so that the last {@code filter} or {@code redirect} of the file wins): the view the queue manager works on.
     */
    public Envelope withExtracted(Extracted extracted) {
        if (extracted.isEmpty()) {
            return this;
        }
        List<Recipient> r = new java.util.ArrayList<>(recipients);
        r.addAll(extracted.recipients());
        List<Action> a = new java.util.ArrayList<>(actions);
        a.addAll(extracted.actions());
        return new Envelope(arrivalMicros, sender, mailParameters, r, client, a);
    }

    /**
     * This merged envelope without the records that came from {@code extracted} (which must be its tail): the
     * envelope segment as it was written when the queue file was created.
     */
    public Envelope withoutExtracted(Extracted extracted) {
        if (extracted.isEmpty()) {
            return this;
        }
        return new Envelope(arrivalMicros, sender, mailParameters,
                recipients.subList(0, recipients.size() - extracted.recipients().size()), client,
                actions.subList(0, actions.size() - extracted.actions().size()));
    }

    /**
     * The records cleanup decides while it reads the content, after the envelope was written (Postfix's extracted
     * segment): header/body checks' {@code FILTER} ({@code filter}) and {@code REDIRECT} ({@code redirect}) actions
     * and {@code BCC} recipients. They follow the content in the queue file (docs/queue-file-format.md, version 2).
     *
     * @param actions {@code filter} and {@code redirect} actions, in the order decided
     * @param recipients recipients added while reading the content, with their status
     */
    public record Extracted(List<Action> actions, List<Recipient> recipients) {
        /** No extracted records: the file is written in version 1. */
        public static final Extracted NONE = new Extracted(List.of(), List.of());

        public Extracted {
            actions = List.copyOf(actions);
            recipients = List.copyOf(recipients);
        }

        public boolean isEmpty() {
            return actions.isEmpty() && recipients.isEmpty();
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
