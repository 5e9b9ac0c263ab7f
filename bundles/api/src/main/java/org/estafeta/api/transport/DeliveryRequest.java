package org.estafeta.api.transport;

import java.util.Collections;
import java.util.LinkedHashMap;
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
 * @param options the master.cf entry's {@code -o name=value} overrides, already expanded (the plugin context's
 *        {@link org.estafeta.api.plugin.PluginContext#parameter} already sees them too)
 * @param service the master.cf service name that was asked for ({@code relay} for {@code relay:[host]}); the
 *        transport's own name when master.cf has no entry of that name
 * @param arguments the master.cf entry's arguments after the command and its {@code -o} options, as written
 *        ({@code flags=Rq}, {@code user=filter}, {@code argv=/usr/bin/filter}, {@code -f}, {@code ${sender}} …)
 * @param mailParameters the ESMTP parameters the message arrived with that a next hop may need, names
 *        upper-cased: {@code RET}, {@code ENVID}, {@code BODY}, {@code SMTPUTF8} (value empty when it has none)
 * @param recipientParameters per recipient of this batch, its DSN parameters: {@code NOTIFY} (comma-separated,
 *        upper-case) and {@code ORCPT} ({@code rfc822;user@example.com}); a recipient without any is absent
 * @since 1.1
 */
public record DeliveryRequest(String nexthop, Envelope envelope, List<String> recipients, MessageContent content,
        Map<String, String> options, String service, List<String> arguments, Map<String, String> mailParameters,
        Map<String, Map<String, String>> recipientParameters) {
    public DeliveryRequest {
        Objects.requireNonNull(nexthop, "nexthop");
        Objects.requireNonNull(envelope, "envelope");
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(service, "service");
        recipients = List.copyOf(recipients);
        options = Map.copyOf(options);
        arguments = List.copyOf(arguments);
        mailParameters = Collections.unmodifiableMap(new LinkedHashMap<>(mailParameters));
        Map<String, Map<String, String>> rp = new LinkedHashMap<>();
        recipientParameters.forEach((k, v) -> rp.put(k, Map.copyOf(v)));
        recipientParameters = Collections.unmodifiableMap(rp);
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("a delivery needs at least one recipient");
        }
    }

    /** The 1.0 form: no service name (empty), arguments, or ESMTP and DSN parameters. */
    public DeliveryRequest(String nexthop, Envelope envelope, List<String> recipients, MessageContent content,
            Map<String, String> options) {
        this(nexthop, envelope, recipients, content, options, "", List.of(), Map.of(), Map.of());
    }
}
