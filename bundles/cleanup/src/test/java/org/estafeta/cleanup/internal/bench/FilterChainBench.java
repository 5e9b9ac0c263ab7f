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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 * Per-message cost of the in-process filter chain (issue 8): cleanup's {@link FilterChain} running N filters over
 * one spooled 2 KiB message, as {@code commit()} does — each filter called on the filter pool with its timeout,
 * reading the message's headers from the spool file, adding one header. {@code filters = 0} is the chain with
 * nothing to run. The filters do no I/O of their own, so this is the chain's overhead, not a scanner's.
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

    private Path dir;
    private Path spool;
    private long spoolSize;
    private byte[] top;
    private FilterChain chain;
    private ExecutorService threads;
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
    private static final FilterChain.ActionLog QUIET = new FilterChain.ActionLog() {
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
            registry.add(new FilterRegistry.Entry(n, new Tagger(n), "bench 1.0", 0, i));
        }
        threads = Executors.newCachedThreadPool();
        chain = new FilterChain(new FilterSettings(names, Duration.ofSeconds(30), Set.of()), registry, threads);
        envelope = new Envelope("4jYgr8312QzL25V", "a@example.org", List.of("b@example.net"),
                new ClientInfo("192.0.2.1", "client.example", "client.example", false, Optional.empty()));
    }

    @TearDown
    public void tearDown() throws IOException {
        threads.shutdownNow();
        Files.deleteIfExists(spool);
        Files.deleteIfExists(dir);
    }

    @Benchmark
    public Object chain() {
        return chain.run(envelope, added -> new SpooledContent(top, added, spool, spoolSize, 102_400), context, QUIET);
    }
}
