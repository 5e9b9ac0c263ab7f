package org.estafeta.transport.smtp.internal;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.dns.ClientName;
import org.estafeta.dns.DnsResolver;
import org.estafeta.dns.DnsResult;
import org.estafeta.dns.DnsblResult;
import org.estafeta.dns.MxRecord;

/** Requests, contexts, contents and a map-backed resolver for the transport's tests. */
final class Fixtures {
    private Fixtures() {
    }

    /** A context whose parameters are the given pairs; short timeouts unless overridden. */
    static PluginContext context(String... pairs) {
        Map<String, String> p = new HashMap<>();
        p.put("myhostname", "gateway.estafeta.test");
        p.put("inet_protocols", "ipv4");
        p.put("smtp_helo_timeout", "5s");
        p.put("smtp_mail_timeout", "5s");
        p.put("smtp_rcpt_timeout", "5s");
        p.put("smtp_data_init_timeout", "5s");
        p.put("smtp_data_xfer_timeout", "5s");
        p.put("smtp_data_done_timeout", "5s");
        p.put("smtp_connect_timeout", "5s");
        p.put("smtp_connection_cache_on_demand", "no");
        p.put("lmtp_connection_cache_on_demand", "no");
        for (int i = 0; i < pairs.length; i += 2) {
            p.put(pairs[i], pairs[i + 1]);
        }
        return new PluginContext() {
            @Override
            public System.Logger logger() {
                return System.getLogger("test");
            }

            @Override
            public Optional<String> parameter(String name) {
                return Optional.ofNullable(p.get(name));
            }

            @Override
            public Clock clock() {
                return Clock.systemUTC();
            }
        };
    }

    static MessageContent content(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return content(() -> new ByteArrayInputStream(bytes), bytes.length);
    }

    static MessageContent content(Supplier<InputStream> open, long size) {
        return new MessageContent() {
            @Override
            public List<Header> headers() {
                return List.of();
            }

            @Override
            public InputStream openBody() {
                return open.get();
            }

            @Override
            public InputStream openMessage() {
                return open.get();
            }

            @Override
            public long size() {
                return size;
            }
        };
    }

    static final String MESSAGE = "From: a@example.org\r\nTo: b@example.com\r\nSubject: test\r\n\r\nHello.\r\n";

    static DeliveryRequest request(String nexthop, String... recipients) {
        return request(nexthop, content(MESSAGE), Map.of(), Map.of(), recipients);
    }

    static DeliveryRequest request(String nexthop, MessageContent content, Map<String, String> mailParameters,
            Map<String, Map<String, String>> rcptParameters, String... recipients) {
        Envelope env = new Envelope("4QUEUEID", "sender@example.org", List.of(recipients),
                new ClientInfo("192.0.2.9", "client.example.org", "client.example.org", false, Optional.empty()));
        return new DeliveryRequest(nexthop, env, List.of(recipients), content, Map.of(), "smtp", List.of(),
                mailParameters, rcptParameters);
    }

    /** A resolver answering from maps; names without an entry are NXDOMAIN, names in {@code failing} fail. */
    static final class MapResolver implements DnsResolver {
        final Map<String, List<MxRecord>> mx = new LinkedHashMap<>();
        final Map<String, List<InetAddress>> a = new LinkedHashMap<>();
        final List<String> failing = new java.util.ArrayList<>();

        MapResolver mx(String domain, int pref, String host) {
            mx.computeIfAbsent(domain, k -> new java.util.ArrayList<>()).add(new MxRecord(pref, host));
            return this;
        }

        MapResolver a(String host, String address) throws UnknownHostException {
            a.computeIfAbsent(host, k -> new java.util.ArrayList<>()).add(InetAddress.getByName(address));
            return this;
        }

        private <T> CompletionStage<DnsResult<T>> answer(String name, String type, List<T> values) {
            String q = name + "/" + type;
            if (failing.contains(name)) {
                return CompletableFuture.completedFuture(new DnsResult.TemporaryFailure<>(q, "SERVFAIL"));
            }
            if (values != null && !values.isEmpty()) {
                return CompletableFuture.completedFuture(new DnsResult.Found<>(q, values, Duration.ofSeconds(60)));
            }
            boolean exists = mx.containsKey(name) || a.containsKey(name);
            return CompletableFuture.completedFuture(new DnsResult.NotFound<>(q,
                    exists ? DnsResult.NotFoundReason.NO_DATA : DnsResult.NotFoundReason.NXDOMAIN));
        }

        @Override
        public CompletionStage<DnsResult<InetAddress>> a(String name) {
            return answer(name, "A", a.get(name));
        }

        @Override
        public CompletionStage<DnsResult<InetAddress>> aaaa(String name) {
            return answer(name, "AAAA", null);
        }

        @Override
        public CompletionStage<DnsResult<InetAddress>> addresses(String name) {
            return answer(name, "A+AAAA", a.get(name));
        }

        @Override
        public CompletionStage<DnsResult<MxRecord>> mx(String domain) {
            return answer(domain, "MX", mx.get(domain));
        }

        @Override
        public CompletionStage<DnsResult<String>> ptr(InetAddress address) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<DnsResult<String>> txt(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<ClientName> clientName(InetAddress address) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<DnsblResult> rbl(InetAddress client, String zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<DnsblResult> rhsbl(String domain, String zone) {
            throw new UnsupportedOperationException();
        }
    }
}
