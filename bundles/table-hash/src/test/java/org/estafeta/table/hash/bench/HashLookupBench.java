package org.estafeta.table.hash.bench;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableSpec;
import org.estafeta.table.hash.PostmapCommand;
import org.estafeta.table.hash.internal.IndexedTableFactory;
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
 * One {@code hash:} lookup in an index of {@code entries} keys built by the postmap code (the memory-mapped
 * format of docs/table-index-format.md), through the table the gateway opens (key folding, the once-a-second
 * change check on a real clock). {@code hit} cycles through 1024 present keys (mixed case, so folding is paid);
 * {@code miss} asks absent keys. The target: about a microsecond or less per lookup.
 * Not part of {@code mvn verify}; see docs/benchmarks.md for the command line.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class HashLookupBench {
    @Param({"100000"})
    int entries;

    private Path dir;
    private LookupTable table;
    private final String[] hits = new String[1024];
    private final String[] misses = new String[1024];
    private int next;

    @Setup
    public void setup() throws Exception {
        dir = Files.createTempDirectory("hash-bench");
        Path src = dir.resolve("transport");
        StringBuilder text = new StringBuilder(entries * 48);
        for (int i = 0; i < entries; i++) {
            text.append("user").append(i).append("@domain").append(i % 997).append(".example.com\tsmtp:[relay")
                    .append(i % 13).append(".example.net]:25\n");
        }
        Files.writeString(src, text);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = PostmapCommand.run("postmap", List.of(src.toString()), "hash",
                new ByteArrayInputStream(new byte[0]), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err), Clock.systemUTC(), (k, t) -> 1);
        if (exit != 0) {
            throw new IllegalStateException("postmap: " + err);
        }
        table = new IndexedTableFactory().open(new TableSpec("hash", src.toString()), context());
        for (int i = 0; i < hits.length; i++) {
            int n = (int) ((i * 2654435761L) % entries);
            hits[i] = "User" + n + "@Domain" + (n % 997) + ".example.COM";
            misses[i] = "nobody" + n + "@domain" + (n % 997) + ".example.com";
        }
        if (!(table.lookup(hits[1]) instanceof LookupResult.Found) || !(table.lookup(misses[1]) instanceof LookupResult.NotFound)) {
            throw new IllegalStateException("the table does not answer as expected");
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        table.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    @Benchmark
    public LookupResult hit() {
        return table.lookup(hits[next++ & 1023]);
    }

    @Benchmark
    public LookupResult miss() {
        return table.lookup(misses[next++ & 1023]);
    }

    /** A plugin context with the system clock, as the gateway's (a lookup checks the file once a second). */
    static PluginContext context() {
        return new PluginContext() {
            private final System.Logger logger = System.getLogger("bench");

            @Override
            public System.Logger logger() {
                return logger;
            }

            @Override
            public Optional<String> parameter(String name) {
                return Optional.empty();
            }

            @Override
            public Clock clock() {
                return Clock.systemUTC();
            }
        };
    }
}
