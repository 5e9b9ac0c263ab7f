package org.estafeta.sample.jsontable;

import java.nio.file.Path;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code json:} lookup-table type: {@code transport_maps = json:/etc/estafeta/transport.json}.
 * Drop this bundle into the gateway's deploy directory and the type becomes available without a restart.
 */
@Component(property = LookupTableFactory.TYPE + "=json")
public class JsonTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        Path file = Path.of(spec.name());
        if (!file.isAbsolute()) {
            throw new TableOpenException(spec + ": the file name must be an absolute path");
        }
        JsonTable table = JsonTable.open(spec.toString(), file, context.clock());
        context.logger().log(System.Logger.Level.INFO, "{0}: opened, {1} entries", spec, table.size());
        return table;
    }
}
