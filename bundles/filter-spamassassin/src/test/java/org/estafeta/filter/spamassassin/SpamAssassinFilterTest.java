package org.estafeta.filter.spamassassin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.filter.support.DaemonAddress;
import org.estafeta.testing.PrivateSpamd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spamassassin filter against a real, private spamd (PrivateSpamd: Debian's rules, local tests only, no Bayes):
 * GTUBE scores 1000 and is rejected at the default threshold, ham scores low and passes with spamc's X-Spam-* fields
 * and X-Spam-Score; thresholds, the size limit and a stopped spamd.
 */
class SpamAssassinFilterTest {
    static final int TCP_PORT = 27312;
    static final Envelope ENVELOPE = new Envelope("4dZ8sL2kQmz1cB5", "a@example.org", List.of("b@example.net"),
            new ClientInfo("192.0.2.7", "client.example.org", "helo.example.org", false, Optional.empty()));
    static final String HEAD = "Received: from helo.example.org (client.example.org [192.0.2.7])\r\n"
            + "\tby mx.example.com (Estafeta) with ESMTP id 4dZ8sL2kQmz1cB5\r\n"
            + "\tfor <b@example.net>; Tue, 24 Nov 2026 10:00:00 +0000 (UTC)\r\n"
            + "From: Ana <a@example.org>\r\nTo: b@example.net\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
            + "Message-ID: <20261124100000.1234@example.org>\r\n";
    static final String GTUBE = HEAD + "Subject: test\r\n\r\nThis is the GTUBE, the\r\n\r\n" + PrivateSpamd.GTUBE
            + "\r\n\r\nGeneric Test for Unsolicited Bulk Email\r\n";
    static final String HAM = HEAD + "Subject: lunch tomorrow\r\n\r\nHi Bob,\r\n\r\nshall we meet at noon at the usual "
            + "place? I will bring the report we talked about.\r\n\r\nAna\r\n";

    @TempDir
    static Path dir;
    static PrivateSpamd spamd;

    private final org.estafeta.testing.FakePluginContext fake = new org.estafeta.testing.FakePluginContext();
    private final Map<String, String> params = fake.parameters;
    private final SpamAssassinFilter filter = new SpamAssassinFilter();

    @BeforeAll
    static void start() throws Exception {
        spamd = PrivateSpamd.start(dir.resolve("spamd"), TCP_PORT);
    }

    @AfterAll
    static void stop() {
        if (spamd != null) {
            spamd.close();
        }
    }

    @AfterEach
    void close() {
        filter.close();
    }

    private final PluginContext context = fake;

    /** An in-memory message. */
    static MessageContent message(String text) {
        return new org.estafeta.testing.BytesContent(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String header(List<Header> headers, String name) {
        return headers.stream().filter(h -> h.is(name)).map(Header::value).findFirst().orElse(null);
    }

    @Test
    void gtubeIsRejectedAtTheDefaultThreshold() {
        params.put("spamassassin_server", spamd.unixAddress());
        FilterVerdict v = filter.filter(ENVELOPE, message(GTUBE), context);
        assertEquals(new FilterVerdict.Reject(SpamAssassinFilter.REJECT), v);
        assertEquals("554 5.7.1 Spam message rejected", SpamAssassinFilter.REJECT.toString());
    }

    @Test
    void gtubeScoresAThousandAndIsFlaggedWhenNotRejected() {
        params.put("spamassassin_server", spamd.inetAddress());
        params.put("spamassassin_reject_score", "");
        FilterVerdict.Accept a = (FilterVerdict.Accept) filter.filter(ENVELOPE, message(GTUBE), context);
        List<Header> h = a.addHeaders();
        assertTrue(Double.parseDouble(header(h, "X-Spam-Score")) >= 1000, h.toString());
        assertEquals("YES", header(h, "X-Spam-Flag"), h.toString());
        assertTrue(header(h, "X-Spam-Status").matches("(?s)Yes, score=10\\d\\d\\.\\d required=5\\.0 tests=.*GTUBE.*"),
                header(h, "X-Spam-Status"));
        assertTrue(header(h, "X-Spam-Checker-Version").startsWith("SpamAssassin "), h.toString());
        assertTrue(h.stream().noneMatch(x -> x.value().contains("\n")), "unfolded: " + h);
    }

    @Test
    void hamScoresLowAndPassesWithSpamcsHeaders() {
        params.put("spamassassin_server", spamd.unixAddress());
        FilterVerdict.Accept a = (FilterVerdict.Accept) filter.filter(ENVELOPE, message(HAM), context);
        List<Header> h = a.addHeaders();
        double score = Double.parseDouble(header(h, "X-Spam-Score"));
        assertTrue(score < 5, h.toString());
        assertTrue(header(h, "X-Spam-Status").startsWith("No, score="), h.toString());
        assertEquals(null, header(h, "X-Spam-Flag"), "spamd adds X-Spam-Flag only to spam");
        assertEquals(List.of("X-Spam-Checker-Version", "X-Spam-Level", "X-Spam-Status", "X-Spam-Score"),
                h.stream().map(Header::name).toList());
    }

    @Test
    void holdScoreHoldsBelowTheRejectScore() {
        params.put("spamassassin_server", spamd.unixAddress());
        params.put("spamassassin_hold_score", "-50");
        FilterVerdict v = filter.filter(ENVELOPE, message(HAM), context);
        assertTrue(v instanceof FilterVerdict.Hold h && h.reason().matches("spam score -?\\d+\\.\\d >= "
                + "spamassassin_hold_score -50\\.0"), v.toString());
        // held with SpamAssassin's headers (api filter 1.2)
        assertTrue(v instanceof FilterVerdict.Hold h && h.changes().orElse(null) instanceof FilterVerdict.Accept a
                && a.addHeaders().stream().anyMatch(x -> x.is("X-Spam-Status"))
                && a.addHeaders().stream().anyMatch(x -> x.is("X-Spam-Score")), v.toString());
        assertTrue(filter.filter(ENVELOPE, message(GTUBE), context) instanceof FilterVerdict.Reject);
    }

    @Test
    void largerThanMaxSizePassesUnchecked() {
        params.put("spamassassin_server", spamd.unixAddress());
        params.put("spamassassin_max_size", "100");
        assertEquals(FilterVerdict.accept(), filter.filter(ENVELOPE, message(GTUBE), context));
    }

    @Test
    void aStoppedSpamdOrABadSettingIsAnError() {
        params.put("spamassassin_server", "unix:" + dir.resolve("none.sock"));
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> filter.filter(ENVELOPE, message(HAM), context));
        assertTrue(e.getMessage().startsWith("connect to unix:" + dir.resolve("none.sock") + ": "), e.getMessage());
        params.put("spamassassin_server", spamd.unixAddress());
        params.put("spamassassin_reject_score", "lots");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> filter.filter(ENVELOPE, message(HAM), context));
        assertEquals("spamassassin_reject_score: bad score: lots", bad.getMessage());
    }

    @Test
    void spamdErrorsAndGarbageAreErrors() throws Exception {
        DaemonAddress a = DaemonAddress.parse("spamassassin_server", "inet:127.0.0.1:783");
        Exception e = assertThrows(java.io.IOException.class,
                () -> Spamd.parse(a, "SPAMD/1.0 76 Bad header line: (EOF)\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("spamd inet:127.0.0.1:783: 76 Bad header line: (EOF)", e.getMessage());
        assertThrows(java.io.IOException.class, () -> Spamd.parse(a, "HTTP/1.0 200 OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertThrows(java.io.IOException.class, () -> Spamd.parse(a, new byte[0]));
    }
}
