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
     * so that the last {@code filter} or {@code redirect} of the file wins), as they are written: the inverse of
     * {@link #withoutExtracted}. Readers work on {@link #effective}, which also applies the envelope changes.
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
     * This envelope with the extracted segment's records merged ({@link #withExtracted}) and its envelope changes
     * applied: the sender of the last {@link Extracted#SENDER} action replaces the envelope's, and every recipient
     * that {@link Extracted#removes} is DONE. This is the view every reader works on (the queue manager, bounces,
     * postqueue); {@link QueueStore.QueuedMessage#envelope()} returns it. Removed recipients stay in the list, in
     * their place, so that positions keep numbering the file's {@code rcpt} lines (QueueStore#markDone).
     *
     * @since 1.3
     */
    public Envelope effective(Extracted extracted) {
        Envelope merged = withExtracted(extracted);
        Optional<String> newSender = extracted.sender();
        if (newSender.isEmpty() && extracted.removed().isEmpty()) {
            return merged;
        }
        List<Recipient> r = new java.util.ArrayList<>(merged.recipients.size());
        for (Recipient x : merged.recipients) {
            r.add(x.status() == Status.PENDING && extracted.removes(x)
                    ? new Recipient(x.address(), x.notifyOn(), x.originalRecipient(), Status.DONE) : x);
        }
        return new Envelope(arrivalMicros, newSender.orElse(sender), mailParameters, r, client, merged.actions);
    }

    /**
     * This merged envelope without the records that came from {@code extracted} (which must be its tail): the
     * envelope segment as it was written when the queue file was created, when this envelope came from
     * {@link #withExtracted}. From an {@link #effective} envelope the sender and the statuses stay the changed ones.
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
     * segment): header/body checks' {@code FILTER} ({@code filter}) and {@code REDIRECT} ({@code redirect}) actions,
     * {@code BCC} recipients, and the envelope changes of content filters at the end of the message ({@link #SENDER},
     * {@link #REMOVE}). They follow the content in the queue file (docs/queue-file-format.md, version 2).
     *
     * @param actions {@code filter}, {@code redirect}, {@code sender} and {@code remove} actions, in the order decided
     * @param recipients recipients added while reading the content, with their status
     */
    public record Extracted(List<Action> actions, List<Recipient> recipients) {
        /** No extracted records: the file is written in version 1. */
        public static final Extracted NONE = new Extracted(List.of(), List.of());
        /**
         * Action name: a content filter changed the envelope sender to the value (empty for the null sender); of
         * several, the last one wins. Readers see it as {@link Envelope#sender()} ({@link Envelope#effective}).
         *
         * @since 1.3
         */
        public static final String SENDER = "sender";
        /**
         * Action name: a content filter took the recipient of the value (an address, without angle brackets) out of
         * the envelope; every recipient it {@link #removes} is DONE for readers ({@link Envelope#effective}).
         *
         * @since 1.3
         */
        public static final String REMOVE = "remove";

        public Extracted {
            actions = List.copyOf(actions);
            recipients = List.copyOf(recipients);
        }

        public boolean isEmpty() {
            return actions.isEmpty() && recipients.isEmpty();
        }

        /**
         * The value of the last {@link #SENDER} action: the envelope sender readers use (empty string for the null
         * sender); empty when no filter changed it.
         *
         * @since 1.3
         */
        public Optional<String> sender() {
            Optional<String> last = Optional.empty();
            for (Action a : actions) {
                if (a.name().equals(SENDER)) {
                    last = Optional.of(a.value());
                }
            }
            return last;
        }

        /**
         * The values of the {@link #REMOVE} actions, in order.
         *
         * @since 1.3
         */
        public List<String> removed() {
            return actions.stream().filter(a -> a.name().equals(REMOVE)).map(Action::value).toList();
        }

        /**
         * Whether a {@link #REMOVE} action takes {@code r} out of the envelope: its address, or the address of its
         * ORCPT ({@code rfc822;} address, xtext decoded), equals the action's value ignoring case. Applies to the
         * envelope's recipients and to the extracted ones alike, whatever the order of the records.
         *
         * @since 1.3
         */
        public boolean removes(Recipient r) {
            List<String> removed = removed();
            if (removed.isEmpty()) {
                return false;
            }
            Optional<String> orcpt = r.originalRecipient().flatMap(Extracted::orcptAddress);
            for (String v : removed) {
                if (v.equalsIgnoreCase(r.address()) || orcpt.isPresent() && v.equalsIgnoreCase(orcpt.get())) {
                    return true;
                }
            }
            return false;
        }

        /**
         * The address of an ORCPT value as received ({@code addr-type;xtext}): for {@code rfc822} the xtext decoded
         * (as is when it is not valid xtext), for other types the value as is; empty without a type.
         */
        private static Optional<String> orcptAddress(String orcpt) {
            int semi = orcpt.indexOf(';');
            if (semi < 0) {
                return Optional.empty();
            }
            String value = orcpt.substring(semi + 1);
            if (!orcpt.substring(0, semi).strip().equalsIgnoreCase("rfc822")) {
                return Optional.of(value);
            }
            try {
                return Optional.of(QueueFileFormat.unxtext(value));
            } catch (java.io.IOException e) {
                return Optional.of(value);
            }
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
