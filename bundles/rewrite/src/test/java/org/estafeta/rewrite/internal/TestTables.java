package org.estafeta.rewrite.internal;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.table.regexp.RegexpTableFactory;
import org.estafeta.table.simple.InlineTableFactory;
import org.estafeta.table.simple.TextHashTableFactory;
import org.estafeta.tables.TableService;
import org.estafeta.tables.UnsupportedTableTypeException;
import org.estafeta.testing.FakePluginContext;

/**
 * A {@link TableService} over the real {@code texthash:}, {@code inline:} and {@code regexp:} factories, plus
 * {@code fail:name}, a table whose every lookup is a temporary failure (a database that is down). Counts opens and
 * closes of handles.
 */
final class TestTables implements TableService {
    final AtomicInteger opens = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();
    private final FakePluginContext context = new FakePluginContext();

    @Override
    public LookupTable open(String text) throws TableOpenException {
        TableSpec spec = TableSpec.parse(text);
        LookupTableFactory factory = switch (spec.type()) {
            case "texthash" -> new TextHashTableFactory();
            case "inline" -> new InlineTableFactory();
            case "regexp" -> new RegexpTableFactory();
            case "fail" -> (s, c) -> key -> LookupResult.temporaryFailure(s + ": server is down");
            default -> throw new UnsupportedTableTypeException(spec.type());
        };
        LookupTable table = factory.open(spec, context);
        opens.incrementAndGet();
        return new LookupTable() {
            @Override
            public LookupResult lookup(String key) {
                return table.lookup(key);
            }

            @Override
            public void close() {
                closes.incrementAndGet();
                table.close();
            }
        };
    }

    @Override
    public Set<String> types() {
        return Set.of("texthash", "inline", "regexp", "fail");
    }

    @Override
    public List<String> problems(ConfigSnapshot snapshot) {
        return List.of();
    }
}
