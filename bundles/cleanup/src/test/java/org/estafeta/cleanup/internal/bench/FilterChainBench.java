package org.estafeta.cleanup.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.filter.ContentFilter;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-message cost of the in-process filter chain (issue 8): cleanup's {@link SessionChain} taking one 2 KiB message
 * through N filters as a session does — MAIL, RCPT, DATA, each of its five headers, the end of the headers, one body
 * chunk and the end of the message, every call under the watchdog's timeout. {@code kind = content}: each filter is a
 * {@link ContentFilter} that reads a header from the spool file and adds one; {@code kind = session}: each is a
 * session filter that looks at every header and body chunk and adds a header at the end. {@code filters = 0} is the
 * chain with nothing to run. The filters do no I/O of their own, so this is the chain's overhead, not a scanner's.
 * In package {@code internal} (the chain is package-private); the directory is {@code bench/} so that only the
 * bench command compiles it with JMH's annotation processor (docs/benchmarks.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class FilterChainBench {
    @Param({"0", "1", "3"})
    int filters;

    @Param({"content", "session"})
    String kind;

    private static final byte[][] HEADERS = {
        "From: a@example.org\r\n".getBytes(StandardCharsets.US_ASCII),
        "To: b@example.net\r\n".getBytes(StandardCharsets.US_ASCII),
        "Subject: bench\r\n".getBytes(StandardCharsets.US_ASCII),
        "Message-ID: <1@example.org>\r\n".getBytes(StandardCharsets.US_ASCII),
        "Date: Tue, 24 Nov 2026 11:00:00 +0000\r\n".getBytes(StandardCharsets.US_ASCII)};
    private byte[] body;
    private java.util.concurrent.ScheduledThreadPoolExecutor watchdog;
    private FilterSettings settings;
    private FilterRegistry registry;

    private Path dir;
    private Path spool;
    private long spoolSize;
    private byte[] top;
    private Envelope envelope;
    private final org.estafeta.api.plugin.PluginContext context = new org.estafeta.api.plugin.PluginContext() {
        @Override
        public System.Logger logger() {
            return System.getLogger("bench");
        }

        @Override
        public Optional<String> parameter(String name) {
            return Optional.empty();
        }

        @Override
        public java.time.Clock clock() {
            return java.time.Clock.systemUTC();
        }
    };
    private static final SessionChain.ActionLog QUIET = new SessionChain.ActionLog() {
        @Override
        public void action(String verb, String subject, String detail) {
        }

        @Override
        public void warn(String text) {
        }
    };

    /** Reads a header (the spool is parsed) and adds one, as a tagging filter does. */
    static final class Tagger implements ContentFilter {
        private final String name;

        Tagger(String name) {
            this.name = name;
        }

        @Override
        public FilterVerdict filter(Envelope envelope, org.estafeta.api.message.MessageContent content,
                org.estafeta.api.plugin.PluginContext ctx) {
            String subject = content.header("Subject");
            return new FilterVerdict.Accept(List.of(new Header("X-" + name, subject == null ? "none" : "seen")));
        }
    }

    /** Looks at every header and chunk (as a milter would forward them) and adds a header at the end. */
    static final class Watcher implements org.estafeta.api.filter.SessionFilter {
        private final String name;

        Watcher(String name) {
            this.name = name;
        }

        @Override
        public org.estafeta.api.filter.FilterSession open(org.estafeta.api.plugin.PluginContext ctx) {
            return new org.estafeta.api.filter.FilterSession() {
                private int seen;

                @Override
                public org.estafeta.api.filter.EventVerdict header(org.estafeta.api.filter.HeaderField h) {
                    seen += h.is("Subject") ? 1 : 0;
                    return org.estafeta.api.filter.EventVerdict.CONTINUE;
                }

                @Override
                public org.estafeta.api.filter.EventVerdict body(java.nio.ByteBuffer chunk) {
                    seen += chunk.remaining() > 0 ? 1 : 0;
                    return org.estafeta.api.filter.EventVerdict.CONTINUE;
                }

                @Override
                public FilterVerdict endOfMessage(Envelope envelope, org.estafeta.api.message.MessageContent c) {
                    return new FilterVerdict.Accept(List.of(new Header("X-" + name, String.valueOf(seen))));
                }
            };
        }
    }

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("filter-bench");
        StringBuilder msg = new StringBuilder("From: a@example.org\r\nTo: b@example.net\r\nSubject: bench\r\n"
                + "Message-ID: <1@example.org>\r\nDate: Tue, 24 Nov 2026 11:00:00 +0000\r\n\r\n");
        while (msg.length() < 2048) {
            msg.append("The quick brown fox jumps over the lazy dog, again and again.\r\n");
        }
        byte[] bytes = msg.toString().getBytes(StandardCharsets.US_ASCII);
        spool = dir.resolve("spool");
        Files.write(spool, bytes);
        spoolSize = bytes.length;
        top = "Received: from client.example (client.example [192.0.2.1])\r\n\tby mx.example.org (Estafeta) with ESMTP id 4jYgr8312QzL25V\r\n\tfor <b@example.net>; Tue, 24 Nov 2026 11:00:00 +0000 (UTC)\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        FilterRegistry registry = new FilterRegistry();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < filters; i++) {
            String n = "f" + i;
            names.add(n);
            Object filter = kind.equals("content") ? new Tagger(n) : new Watcher(n);
            registry.add(new FilterRegistry.Entry(n, filter, "bench 1.0", 0, i));
        }
        this.registry = registry;
        int headerEnd = msg.indexOf("\r\n\r\n") + 4;
        body = java.util.Arrays.copyOfRange(bytes, headerEnd, bytes.length);
        watchdog = new java.util.concurrent.ScheduledThreadPoolExecutor(1);
        watchdog.setRemoveOnCancelPolicy(true);
        settings = new FilterSettings(names, Duration.ofSeconds(30), Set.of());
        envelope = new Envelope("4jYgr8312QzL25V", "a@example.org", List.of("b@example.net"),
                new ClientInfo("192.0.2.1", "client.example", "client.example", false, Optional.empty()));
    }

    @TearDown
    public void tearDown() throws IOException {
        watchdog.shutdownNow();
        Files.deleteIfExists(spool);
        Files.deleteIfExists(dir);
    }

    @Benchmark
    public Object chain() {
        SessionChain chain = new SessionChain(settings, registry, watchdog, context,
                org.slf4j.LoggerFactory.getLogger("bench"));
        chain.connect(envelope.client());
        chain.helo("client.example");
        chain.mail("a@example.org", java.util.Map.of());
        chain.rcpt("b@example.net", java.util.Map.of());
        chain.data("4jYgr8312QzL25V", null, QUIET);
        int n = 0;
        for (byte[] h : HEADERS) {
            n += chain.header(h).length;
        }
        chain.endOfHeaders();
        n += chain.body(body).length;
        Object outcome = chain.endOfMessage(envelope,
                added -> new SpooledContent(top, added, spool, spoolSize, 102_400));
        chain.close();
        return n + outcome.hashCode();
    }
}
