package org.estafeta.bounce;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import org.estafeta.config.ConfigSnapshot;

/**
 * What a report is about: one queued message and the recipients whose fate it reports.
 *
 * @param kind what happened to the recipients
 * @param config the snapshot to take parameters from ({@code myhostname}, {@code bounce_size_limit},
 *        {@code notify_classes}, {@code *_notice_recipient}, {@code double_bounce_sender}, {@code mail_name} …)
 * @param queueId the original's queue ID
 * @param arrivalMillis when the original arrived
 * @param sender the original's envelope sender, empty for {@code <>}
 * @param mailParameters the original's MAIL FROM ESMTP parameters, names upper-cased ({@code RET}, {@code ENVID})
 * @param recipients the recipients reported, with their status
 * @param content opens the original message (headers and body, CRLF lines) each time it is called
 */
public record Notice(Kind kind, ConfigSnapshot config, String queueId, long arrivalMillis, String sender,
        Map<String, String> mailParameters, List<RecipientStatus> recipients, Content content) {

    public Notice {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(queueId, "queueId");
        Objects.requireNonNull(sender, "sender");
        mailParameters = Map.copyOf(mailParameters);
        recipients = List.copyOf(recipients);
        Objects.requireNonNull(content, "content");
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("a notice needs at least one recipient");
        }
    }

    public enum Kind {
        /** Delivery failed permanently (Action: failed); also for mail that expired in the queue. */
        FAILURE,
        /** Delivery is delayed (Action: delayed); {@code delay_warning_time}. */
        DELAY,
        /** Delivered, and the sender asked for {@code NOTIFY=SUCCESS} (Action: delivered, or relayed). */
        SUCCESS
    }

    /**
     * One recipient's fate.
     *
     * @param address the recipient as it was queued (the final recipient)
     * @param originalRecipient the ORCPT parameter as received ({@code rfc822;user@example.com}), if any
     * @param notifyOn the NOTIFY values the recipient came with (empty: Postfix's default, FAILURE and DELAY)
     * @param status the RFC 3463 status ({@code 5.1.1})
     * @param diagnostic the reply that explains it ({@code 550 5.1.1 <x@example.com>: Recipient address rejected})
     * @param remoteMta the host that gave the reply, as logged in {@code relay=} ({@code mx.example.com[192.0.2.1]:25}),
     *        or empty when the reason is local
     * @param relayed for SUCCESS: whether the next hop was a relay that did not promise a DSN (Action: relayed)
     */
    public record RecipientStatus(String address, Optional<String> originalRecipient, List<String> notifyOn,
            String status, String diagnostic, Optional<String> remoteMta, boolean relayed) {
        public RecipientStatus {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(originalRecipient, "originalRecipient");
            notifyOn = List.copyOf(notifyOn);
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(diagnostic, "diagnostic");
            Objects.requireNonNull(remoteMta, "remoteMta");
        }
    }

    /** Opens the original message. */
    @FunctionalInterface
    public interface Content {
        InputStream open() throws IOException;
    }
}
