package org.estafeta.table.cidr.bench;

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
import org.estafeta.table.cidr.CidrTableFactory;
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
 * One {@code cidr:} lookup in a table of {@code rules} IPv4 /24 networks (and, for IPv6 keys, the same number of
 * /48s), through the table the gateway opens. {@code hitLast} matches only the last rule (cidr_table(5) is a
 * first-match scan, as in Postfix); {@code miss} matches none; {@code missV6} is an IPv6 address matching none.
 * Not part of {@code mvn verify}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class CidrLookupBench {
    @Param({"10", "10000"})
    int rules;

    private Path file;
    private LookupTable table;
    private String last;

    @Setup
    public void setup() throws Exception {
        file = Files.createTempFile("cidr-bench", ".cidr");
        StringBuilder b = new StringBuilder(rules * 64);
        for (int i = 0; i < rules; i++) {
            b.append(10 + i / 65536).append('.').append(i / 256 % 256).append('.').append(i % 256)
                    .append(".0/24\tREJECT net ").append(i).append('\n');
            b.append("2001:db8:").append(Integer.toHexString(i)).append("::/48\tREJECT net6 ").append(i).append('\n');
        }
        Files.writeString(file, b);
        table = new CidrTableFactory().open(new TableSpec("cidr", file.toString()), context());
        int n = rules - 1;
        last = (10 + n / 65536) + "." + (n / 256 % 256) + "." + (n % 256) + ".77";
        if (!table.lookup(last).equals(LookupResult.found("REJECT net " + n))
                || !(table.lookup("192.0.2.1") instanceof LookupResult.NotFound)
                || !(table.lookup("2001:db9::1") instanceof LookupResult.NotFound)) {
            throw new IllegalStateException("the table does not answer as expected: " + table.lookup(last));
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
        return table.lookup("192.0.2.1");
    }

    @Benchmark
    public LookupResult missV6() {
        return table.lookup("2001:db9::1");
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
