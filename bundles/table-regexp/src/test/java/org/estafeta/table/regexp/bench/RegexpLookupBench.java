package org.estafeta.table.regexp.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableSpec;
import org.estafeta.table.regexp.RegexpTableFactory;
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
 * One {@code regexp:} lookup in a table of {@code rules} rules of the form
 * {@code /spam-N\.example\.com/ REJECT listed N} (unanchored, so every rule scans the key), through the table the
 * gateway opens. {@code hitLast} matches only the last rule (every rule is tried, as in Postfix's first-match
 * scan); {@code miss} matches none. The same file is what docs/benchmarks.md times with Postfix's
 * {@code postmap -q - regexp:FILE}. Not part of {@code mvn verify}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class RegexpLookupBench {
    @Param({"10", "10000"})
    int rules;

    private Path file;
    private LookupTable table;
    private String last;

    /** The table text: {@code rules} lines, rule N matching {@code spam-N.example.com} anywhere in the key. */
    public static String rules(int count) {
        StringBuilder b = new StringBuilder(count * 48);
        for (int i = 0; i < count; i++) {
            b.append("/spam-").append(i).append("\\.example\\.com/\tREJECT listed ").append(i).append('\n');
        }
        return b.toString();
    }

    @Setup
    public void setup() throws Exception {
        file = Files.createTempFile("regexp-bench", ".re");
        Files.writeString(file, rules(rules));
        table = new RegexpTableFactory().open(new TableSpec("regexp", file.toString()), context());
        last = "user@spam-" + (rules - 1) + ".example.com";
        if (!table.lookup(last).equals(LookupResult.found("REJECT listed " + (rules - 1)))
                || !(table.lookup("user@ham.example.org") instanceof LookupResult.NotFound)) {
            throw new IllegalStateException("the table does not answer as expected");
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        table.close();
        Files.delete(file);
    }

    @Benchmark
    public LookupResult hitLast() {
        return table.lookup(last);
    }

    @Benchmark
    public LookupResult miss() {
        return table.lookup("user@ham.example.org");
    }

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
