package org.estafeta.table.simple;

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
 * Provides the {@code texthash:} type: {@code texthash:/etc/estafeta/access} reads the postmap(1) source file
 * itself (no index is built) and reads it again when it changes.
 */
@Component(property = LookupTableFactory.TYPE + "=texthash")
public class TextHashTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        Path file = Path.of(spec.name());
        if (!file.isAbsolute()) {
            throw new TableOpenException(spec + ": the file name must be an absolute path");
        }
        System.Logger log = context.logger();
        String[] failure = new String[1];
        ReloadingFile<TextHash> source = ReloadingFile.open(file, context.clock(),
                text -> TextHash.parse(spec.name(), text, w -> log.log(System.Logger.Level.WARNING, w)),
                why -> failure[0] = why);
        if (source == null) {
            throw new TableOpenException(spec + ": " + failure[0].replaceFirst("^open ", "open database "));
        }
        log.log(System.Logger.Level.INFO, spec + ": opened, " + source.current().contents().size() + " entries");
        return new LookupTable() {
            @Override
            public LookupResult lookup(String key) {
                ReloadingFile.State<TextHash> s = source.current();
                if (s.failure() != null) {
                    return LookupResult.temporaryFailure(spec + ": " + s.failure());
                }
                String value = s.contents().get(key);
                return value == null ? LookupResult.notFound() : LookupResult.found(value);
            }

            @Override
            public String toString() {
                return spec.toString();
            }
        };
    }
}
