package org.estafeta.transport.error.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.api.transport.Transport;
import org.estafeta.testing.FakePluginContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ErrorTransportsTest {
    /** A message over a byte array: the transports never read it, but a request needs one. */
    private static final MessageContent CONTENT = new MessageContent() {
        private final byte[] bytes = "Subject: x\r\n\r\nbody\r\n".getBytes();

        @Override
        public List<Header> headers() {
            return List.of(new Header("Subject", "x"));
        }

        @Override
        public InputStream openBody() {
            return new ByteArrayInputStream(bytes, 14, bytes.length - 14);
        }

        @Override
        public InputStream openMessage() {
            return new ByteArrayInputStream(bytes);
        }

        @Override
        public long size() {
            return bytes.length;
        }
    };

    private static List<RecipientResult> deliver(Transport t, String service, String nexthop) {
        List<String> rcpts = List.of("a@example.com", "b@example.com");
        Envelope env = new Envelope("4Xyz", "s@example.org", rcpts,
                new ClientInfo("192.0.2.1", "unknown", "h", false, Optional.empty()));
        DeliveryRequest req = new DeliveryRequest(nexthop, env, rcpts, CONTENT, Map.of(), service, List.of(), Map.of(),
                Map.of());
        return t.deliver(req, new FakePluginContext());
    }

    private static Transport transport(String name) {
        return switch (name) {
            case "error" -> new ErrorTransport();
            case "retry" -> new RetryTransport();
            case "discard" -> new DiscardTransport();
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "error   | example.com                     | BOUNCED   | 550 | 5.0.0 | example.com",
        "error   | 5.1.1 mailbox unavailable       | BOUNCED   | 550 | 5.1.1 | mailbox unavailable",
        "error   | '  5.7.1   no   thanks'         | BOUNCED   | 550 | 5.7.1 | no   thanks",
        "error   | 4.3.2 not a bounce code         | BOUNCED   | 550 | 5.0.0 | not a bounce code",
        "error   | 5.1.1x not a code               | BOUNCED   | 550 | 5.0.0 | 5.1.1x not a code",
        "error   | 5.1.1                           | BOUNCED   | 550 | 5.1.1 | ''",
        "retry   | down for maintenance            | DEFERRED  | 450 | 4.0.0 | down for maintenance",
        "retry   | 4.3.2 down for maintenance      | DEFERRED  | 450 | 4.3.2 | down for maintenance",
        "retry   | 5.1.1 not a deferral code       | DEFERRED  | 450 | 4.0.0 | not a deferral code",
        "discard | silently                        | DELIVERED | 250 | 2.0.0 | silently",
        "discard | 2.6.0 spam trap                 | DELIVERED | 250 | 2.6.0 | spam trap",
        "discard | 5.1.1 not a success code        | DELIVERED | 250 | 2.0.0 | not a success code",
    })
    void nexthopIsTheReason(String name, String nexthop, Status status, int code, String dsn, String text) {
        List<RecipientResult> results = deliver(transport(name), name, nexthop);
        assertEquals(List.of("a@example.com", "b@example.com"), results.stream().map(RecipientResult::recipient).toList());
        for (RecipientResult r : results) {
            assertEquals(status, r.status());
            assertEquals(code, r.reply().code());
            assertEquals(dsn, r.reply().enhancedStatus());
            assertEquals(text, r.reply().text());
            assertEquals("none", r.relay());
        }
    }

    @Test
    void theErrorProgramDefersWhenItsServiceIsNamedRetryAsInPostfixsStockMasterCf() {
        List<RecipientResult> results = deliver(new ErrorTransport(), "retry", "4.3.2 down for maintenance");
        for (RecipientResult r : results) {
            assertEquals(Status.DEFERRED, r.status());
            assertEquals("4.3.2", r.reply().enhancedStatus());
            assertEquals("down for maintenance", r.reply().text());
        }
    }
}
