package org.estafeta.table.regexp;

import java.nio.file.Path;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;

/** What the regexp: and pcre: factories share. */
final class PatternTableFactories {
    private PatternTableFactories() {
    }

    static LookupTable open(Dialect dialect, TableSpec spec, PluginContext context) throws TableOpenException {
        Path file = Path.of(spec.name());
        if (!file.isAbsolute()) {
            throw new TableOpenException(spec + ": the file name must be an absolute path");
        }
        PatternTable table = PatternTable.open(dialect, spec.toString(), file, context.clock());
        context.logger().log(System.Logger.Level.INFO, "{0}: opened, {1} rules", spec, table.size());
        return table;
    }
}
