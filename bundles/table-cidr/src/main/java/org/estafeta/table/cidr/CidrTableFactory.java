package org.estafeta.table.cidr;

import org.estafeta.table.support.ReloadingFile;

import java.nio.file.Path;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code cidr:} lookup-table type (Postfix's cidr_table(5)), for example
 * {@code check_client_access cidr:/etc/estafeta/client.cidr}. The file is read into memory and read again when
 * it changes; malformed rules are skipped with Postfix's warning naming the file and line.
 */
@Component(property = LookupTableFactory.TYPE + "=cidr")
public class CidrTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        Path file = Path.of(spec.name());
        if (!file.isAbsolute()) {
            throw new TableOpenException(spec + ": the file name must be an absolute path");
        }
        System.Logger log = context.logger();
        String[] failure = new String[1];
        ReloadingFile<CidrRules> source = ReloadingFile.open(file, context.clock(),
                text -> CidrRules.parse(spec.name(), text, w -> log.log(System.Logger.Level.WARNING, w)),
                why -> failure[0] = why);
        if (source == null) {
            throw new TableOpenException(spec + ": " + failure[0]);
        }
        log.log(System.Logger.Level.INFO, spec + ": opened, " + source.current().contents().size() + " rules");
        return new LookupTable() {
            @Override
            public LookupResult lookup(String key) {
                ReloadingFile.State<CidrRules> s = source.current();
                if (s.failure() != null) {
                    return LookupResult.temporaryFailure(spec + ": " + s.failure());
                }
                String value = s.contents().lookup(key);
                return value == null ? LookupResult.notFound() : LookupResult.found(value);
            }

            @Override
            public String toString() {
                return spec.toString();
            }
        };
    }
}
