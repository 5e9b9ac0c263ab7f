package org.estafeta.cleanup;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.estafeta.api.message.ClientInfo;

/**
 * Everything smtpd knows of a message besides its bytes: the envelope with its ESMTP parameters, the client, and
 * the actions the access restrictions asked for (access(5) HOLD, DISCARD, FILTER, REDIRECT, PREPEND).
 *
 * @param sender the MAIL FROM address, empty for the null sender
 * @param mailParameters MAIL FROM's ESMTP parameters as received, names upper-cased ({@code SIZE}, {@code BODY},
 *        {@code RET}, {@code ENVID}, {@code SMTPUTF8}); a parameter without value maps to an empty string
 * @param recipients the accepted recipients in order
 * @param client the client, with its HELO name and TLS/SASL state
 * @param protocol {@code SMTP} or {@code ESMTP}, as Postfix's Received header says
 * @param actions what the restrictions decided to do with the message once it is queued
 * @param local present for local submission (the sendmail command through pickup), empty for SMTP
 * @param receivedComments comment lines smtpd puts in its Received header between the {@code from} and {@code by}
 *        clauses, without the leading tab ({@code (using TLSv1.3 with cipher ...)}, {@code (Authenticated sender:
 *        user)}), as smtpd_tls_received_header and smtpd_sasl_authenticated_header ask
 */
public record Submission(String sender, Map<String, String> mailParameters, List<Recipient> recipients,
        ClientInfo client, String protocol, Actions actions, Optional<Local> local, List<String> receivedComments) {

    /** A submission without Received comments. */
    public Submission(String sender, Map<String, String> mailParameters, List<Recipient> recipients,
            ClientInfo client, String protocol, Actions actions, Optional<Local> local) {
        this(sender, mailParameters, recipients, client, protocol, actions, local, List.of());
    }

    /** A submission from the network (smtpd, the bounce service): no {@link Local} part. */
    public Submission(String sender, Map<String, String> mailParameters, List<Recipient> recipients,
            ClientInfo client, String protocol, Actions actions) {
        this(sender, mailParameters, recipients, client, protocol, actions, Optional.empty());
    }

    public Submission {
        Objects.requireNonNull(sender, "sender");
        mailParameters = Map.copyOf(mailParameters);
        recipients = List.copyOf(recipients);
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(actions, "actions");
        Objects.requireNonNull(local, "local");
        receivedComments = List.copyOf(receivedComments);
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("a submission needs at least one recipient");
        }
    }

    /**
     * One accepted recipient with its RFC 3461 DSN parameters.
     *
     * @param address the RCPT TO address
     * @param notifyOn the NOTIFY values ({@code SUCCESS}, {@code FAILURE}, {@code DELAY}, {@code NEVER}), empty if not given
     * @param originalRecipient the ORCPT parameter as received ({@code rfc822;user@example.com}), empty if not given
     */
    public record Recipient(String address, List<String> notifyOn, Optional<String> originalRecipient) {
        public Recipient {
            Objects.requireNonNull(address, "address");
            notifyOn = List.copyOf(notifyOn);
            Objects.requireNonNull(originalRecipient, "originalRecipient");
        }
    }

    /**
     * Actions from access restrictions, applied when the message is queued (Postfix's access(5) results).
     *
     * @param hold put the message on hold, with the reason to log ({@code HOLD text})
     * @param discard discard the message after accepting it, with the reason to log ({@code DISCARD text})
     * @param filter a content filter {@code transport:destination} for this message ({@code FILTER})
     * @param redirect send to this address instead of the recipients ({@code REDIRECT})
     * @param prependHeaders header lines to add at the top ({@code PREPEND})
     */
    public record Actions(Optional<String> hold, Optional<String> discard, Optional<String> filter,
            Optional<String> redirect, List<String> prependHeaders) {
        public static final Actions NONE = new Actions(Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), List.of());

        public Actions {
            Objects.requireNonNull(hold, "hold");
            Objects.requireNonNull(discard, "discard");
            Objects.requireNonNull(filter, "filter");
            Objects.requireNonNull(redirect, "redirect");
            prependHeaders = List.copyOf(prependHeaders);
        }
    }

    /**
     * What cleanup needs of a local submission, as Postfix's pickup passes it: the Received header says
     * {@code by HOST (mail_name, from userid UID)}, and cleanup adds a missing {@code From:} (with the full name),
     * {@code Date:} and {@code Message-Id:} whatever {@code always_add_missing_headers} says.
     *
     * @param uid the numeric user ID of the submitting user, as the kernel reported it
     * @param fullName the sender's full name ({@code sendmail -F}), empty when none
     */
    public record Local(long uid, String fullName) {
        public Local {
            Objects.requireNonNull(fullName, "fullName");
        }
    }
}
