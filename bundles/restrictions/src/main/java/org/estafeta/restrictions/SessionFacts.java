package org.estafeta.restrictions;

import java.util.Objects;
import java.util.Optional;

import org.estafeta.api.message.Reply;
import org.estafeta.cleanup.Submission;
import org.estafeta.dns.Outcome;

/**
 * What the restrictions may know of an SMTP session at the moment a list is evaluated (Postfix's SMTPD_STATE as
 * smtpd_check.c reads it). smtpd resolves the client names once at connect with the dns bundle
 * ({@code DnsResolver.clientName}) and passes them in; the engine never looks them up again.
 *
 * @param command the SMTP command being answered, as Postfix logs it: {@code CONNECT}, {@code HELO}, {@code EHLO},
 *        {@code MAIL}, {@code RCPT}, {@code DATA}, {@code END-OF-MESSAGE} ({@code RCPT} for the client, helo and
 *        sender lists evaluated at RCPT time with {@code smtpd_delay_reject = yes})
 * @param queueId the queue ID once the message has one, else empty (the log then says {@code NOQUEUE})
 * @param clientAddress the client IP address as text, IPv6 without brackets ({@code 192.0.2.1}, {@code 2001:db8::1})
 * @param clientPort the client's TCP port
 * @param clientName the verified (forward-confirmed) client name, or {@code unknown}
 * @param clientNameStatus {@code FOUND} when {@code clientName} is verified, else {@code NOT_FOUND} or
 *        {@code TEMPORARY_FAILURE} (reject_unknown_client_hostname answers 450 for the latter)
 * @param reverseClientName the client's PTR name, or {@code unknown}
 * @param reverseClientNameStatus as {@code clientNameStatus}, for the PTR name
 * @param helo the HELO/EHLO argument, empty before the client sent one
 * @param protocol {@code SMTP} or {@code ESMTP} (Postfix's {@code proto=})
 * @param sender the MAIL FROM address without brackets, empty before MAIL FROM; the null sender is {@code ""}
 * @param recipient the RCPT TO address being checked (the last accepted one at DATA), empty before RCPT TO
 * @param recipientCount how many recipients were accepted so far in this transaction
 * @param saslMethod the SASL mechanism the client authenticated with, empty when it did not
 * @param saslUsername the SASL user name, empty when the client did not authenticate
 * @param tls whether the session is encrypted
 * @param clientCertificate the TLS client certificate's fingerprints and whether it verified, empty when the client
 *        presented none
 * @param smtputf8 whether MAIL FROM asked for SMTPUTF8 (non-ASCII host names are then acceptable)
 * @param deferIfPermit a {@code defer_if_permit} raised by an earlier stage of this session and not yet acted on:
 *        the {@link Decision#deferIfPermit()} of the previous stage (client, then helo, then sender); empty for the
 *        client, DATA and END-OF-DATA stages
 * @param actions the access(5) actions already decided for this mail transaction (HOLD, DISCARD, FILTER, REDIRECT,
 *        PREPEND): the {@link Decision#actions()} of the previous evaluation in the transaction
 */
public record SessionFacts(String command, Optional<String> queueId, String clientAddress, int clientPort,
        String clientName, Outcome clientNameStatus, String reverseClientName, Outcome reverseClientNameStatus,
        Optional<String> helo, String protocol, Optional<String> sender, Optional<String> recipient,
        int recipientCount, Optional<String> saslMethod, Optional<String> saslUsername, boolean tls,
        Optional<ClientCertificate> clientCertificate, boolean smtputf8, Optional<Reply> deferIfPermit,
        Submission.Actions actions) {

    /**
     * A TLS client certificate as Postfix's restrictions see it.
     *
     * @param commonName the subject's CN (access replies name it: {@code <CN>: Client certificate rejected})
     * @param fingerprint the certificate's fingerprint ({@code smtpd_tls_fingerprint_digest}, {@code AB:CD:...})
     * @param publicKeyFingerprint the fingerprint of its public key
     * @param trusted whether it verified against {@code smtpd_tls_CAfile}/{@code smtpd_tls_CApath}
     */
    public record ClientCertificate(String commonName, String fingerprint, String publicKeyFingerprint, boolean trusted) {
        public ClientCertificate {
            Objects.requireNonNull(commonName, "commonName");
            Objects.requireNonNull(fingerprint, "fingerprint");
            Objects.requireNonNull(publicKeyFingerprint, "publicKeyFingerprint");
        }
    }

    /** What Postfix writes for a client name it could not establish. */
    public static final String UNKNOWN = "unknown";

    public SessionFacts {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(queueId, "queueId");
        Objects.requireNonNull(clientAddress, "clientAddress");
        Objects.requireNonNull(clientName, "clientName");
        Objects.requireNonNull(clientNameStatus, "clientNameStatus");
        Objects.requireNonNull(reverseClientName, "reverseClientName");
        Objects.requireNonNull(reverseClientNameStatus, "reverseClientNameStatus");
        Objects.requireNonNull(helo, "helo");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(recipient, "recipient");
        Objects.requireNonNull(saslMethod, "saslMethod");
        Objects.requireNonNull(saslUsername, "saslUsername");
        Objects.requireNonNull(clientCertificate, "clientCertificate");
        Objects.requireNonNull(deferIfPermit, "deferIfPermit");
        Objects.requireNonNull(actions, "actions");
        if (clientNameStatus != Outcome.FOUND && !clientName.equals(UNKNOWN)) {
            throw new IllegalArgumentException("an unverified client name must be 'unknown': " + clientName);
        }
        if (reverseClientNameStatus != Outcome.FOUND && !reverseClientName.equals(UNKNOWN)) {
            throw new IllegalArgumentException("a missing reverse client name must be 'unknown': " + reverseClientName);
        }
        if (deferIfPermit.isPresent() && !deferIfPermit.get().isTransient()) {
            throw new IllegalArgumentException("defer_if_permit needs a 4xx reply: " + deferIfPermit.get());
        }
    }

    /** {@code name[address]}, as Postfix logs the client ({@code state->namaddr}). */
    public String namaddr() {
        return clientName + "[" + clientAddress + "]";
    }

    /** A builder for a session from {@code clientAddress}: names unknown (not found), command {@code CONNECT}, ESMTP. */
    public static Builder builder(String clientAddress, int clientPort) {
        return new Builder(clientAddress, clientPort);
    }

    /** A builder holding these facts, to change a few. */
    public Builder toBuilder() {
        Builder b = new Builder(clientAddress, clientPort);
        b.command = command;
        b.queueId = queueId;
        b.clientName = clientName;
        b.clientNameStatus = clientNameStatus;
        b.reverseClientName = reverseClientName;
        b.reverseClientNameStatus = reverseClientNameStatus;
        b.helo = helo;
        b.protocol = protocol;
        b.sender = sender;
        b.recipient = recipient;
        b.recipientCount = recipientCount;
        b.saslMethod = saslMethod;
        b.saslUsername = saslUsername;
        b.tls = tls;
        b.clientCertificate = clientCertificate;
        b.smtputf8 = smtputf8;
        b.deferIfPermit = deferIfPermit;
        b.actions = actions;
        return b;
    }

    /** Builds {@link SessionFacts}; every setter returns the builder. */
    public static final class Builder {
        private String command = "CONNECT";
        private Optional<String> queueId = Optional.empty();
        private final String clientAddress;
        private final int clientPort;
        private String clientName = UNKNOWN;
        private Outcome clientNameStatus = Outcome.NOT_FOUND;
        private String reverseClientName = UNKNOWN;
        private Outcome reverseClientNameStatus = Outcome.NOT_FOUND;
        private Optional<String> helo = Optional.empty();
        private String protocol = "ESMTP";
        private Optional<String> sender = Optional.empty();
        private Optional<String> recipient = Optional.empty();
        private int recipientCount;
        private Optional<String> saslMethod = Optional.empty();
        private Optional<String> saslUsername = Optional.empty();
        private boolean tls;
        private Optional<ClientCertificate> clientCertificate = Optional.empty();
        private boolean smtputf8;
        private Optional<Reply> deferIfPermit = Optional.empty();
        private Submission.Actions actions = Submission.Actions.NONE;

        private Builder(String clientAddress, int clientPort) {
            this.clientAddress = clientAddress;
            this.clientPort = clientPort;
        }

        public Builder command(String command) {
            this.command = command;
            return this;
        }

        public Builder queueId(String queueId) {
            this.queueId = Optional.ofNullable(queueId);
            return this;
        }

        /** The verified client name and its status ({@code unknown} unless {@code FOUND}). */
        public Builder clientName(String name, Outcome status) {
            this.clientName = name;
            this.clientNameStatus = status;
            return this;
        }

        /** The reverse (PTR) client name and its status ({@code unknown} unless {@code FOUND}). */
        public Builder reverseClientName(String name, Outcome status) {
            this.reverseClientName = name;
            this.reverseClientNameStatus = status;
            return this;
        }

        public Builder helo(String helo) {
            this.helo = Optional.ofNullable(helo);
            return this;
        }

        public Builder protocol(String protocol) {
            this.protocol = protocol;
            return this;
        }

        /** The MAIL FROM address; {@code ""} for the null sender, null for "no MAIL FROM yet". */
        public Builder sender(String sender) {
            this.sender = Optional.ofNullable(sender);
            return this;
        }

        public Builder recipient(String recipient) {
            this.recipient = Optional.ofNullable(recipient);
            return this;
        }

        public Builder recipientCount(int count) {
            this.recipientCount = count;
            return this;
        }

        public Builder sasl(String method, String username) {
            this.saslMethod = Optional.ofNullable(method);
            this.saslUsername = Optional.ofNullable(username);
            return this;
        }

        public Builder tls(boolean tls) {
            this.tls = tls;
            return this;
        }

        public Builder clientCertificate(ClientCertificate certificate) {
            this.clientCertificate = Optional.ofNullable(certificate);
            return this;
        }

        public Builder smtputf8(boolean smtputf8) {
            this.smtputf8 = smtputf8;
            return this;
        }

        public Builder deferIfPermit(Optional<Reply> deferIfPermit) {
            this.deferIfPermit = deferIfPermit;
            return this;
        }

        public Builder actions(Submission.Actions actions) {
            this.actions = actions;
            return this;
        }

        public SessionFacts build() {
            return new SessionFacts(command, queueId, clientAddress, clientPort, clientName, clientNameStatus,
                    reverseClientName, reverseClientNameStatus, helo, protocol, sender, recipient, recipientCount,
                    saslMethod, saslUsername, tls, clientCertificate, smtputf8, deferIfPermit, actions);
        }
    }
}
