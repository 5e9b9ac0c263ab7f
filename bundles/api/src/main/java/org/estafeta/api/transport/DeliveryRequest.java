package org.estafeta.api.transport;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.MessageContent;

/**
 * One batch of recipients of one message that share a transport and a next hop.
 *
 * @param nexthop the next hop as the transport table or relayhost gave it ({@code [relay.example.com]:25},
 *        {@code example.com}); its meaning belongs to the transport
 * @param envelope the message's envelope; {@code recipients} below is the subset to deliver now
 * @param recipients the recipients of this batch, never empty
 * @param content the message
 * @param options the master.cf entry's {@code -o name=value} overrides and arguments, already expanded
 */
public record DeliveryRequest(String nexthop, Envelope envelope, List<String> recipients, MessageContent content,
        Map<String, String> options) {
    public DeliveryRequest {
        Objects.requireNonNull(nexthop, "nexthop");
        Objects.requireNonNull(envelope, "envelope");
        Objects.requireNonNull(content, "content");
        recipients = List.copyOf(recipients);
        options = Map.copyOf(options);
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("a delivery needs at least one recipient");
        }
    }
}
