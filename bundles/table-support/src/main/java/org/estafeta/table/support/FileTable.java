package org.estafeta.table.support;

import java.nio.file.Path;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;

/**
 * A table read from one file into memory and read again when the file changes ({@link ReloadingFile}): what the
 * file-based table types share. While a changed file cannot be read, lookups are temporary failures naming the
 * table and the cause, never "not found".
 *
 * @param <T> the compiled contents of the file
 */
public final class FileTable<T> implements LookupTable {
    private final TableSpec spec;
    private final ReloadingFile<T> source;
    private final BiFunction<T, String, String> lookup;

    private FileTable(TableSpec spec, ReloadingFile<T> source, BiFunction<T, String, String> lookup) {
        this.spec = spec;
        this.source = source;
        this.lookup = lookup;
    }

    /**
     * Opens {@code spec.name()}, which must be an absolute path.
     *
     * @param compile turns the file's text into the contents (warnings through the plugin's logger are its own)
     * @param lookup answers one key from the contents: the value, or null when not found
     * @param openFailure rewords the read error for the exception, as the table type's Postfix counterpart words it
     */
    public static <T> FileTable<T> open(TableSpec spec, PluginContext context, Function<String, T> compile,
            BiFunction<T, String, String> lookup, UnaryOperator<String> openFailure) throws TableOpenException {
        Path file = Path.of(spec.name());
        if (!file.isAbsolute()) {
            throw new TableOpenException(spec + ": the file name must be an absolute path");
        }
        String[] failure = new String[1];
        ReloadingFile<T> source = ReloadingFile.open(file, context.clock(), compile, why -> failure[0] = why);
        if (source == null) {
            throw new TableOpenException(spec + ": " + openFailure.apply(failure[0]));
        }
        return new FileTable<>(spec, source, lookup);
    }

    /** The contents as last read successfully (for the "opened, N rules" log line). */
    public T contents() {
        return source.current().contents();
    }

    @Override
    public LookupResult lookup(String key) {
        ReloadingFile.State<T> s = source.current();
        if (s.failure() != null) {
            return LookupResult.temporaryFailure(spec + ": " + s.failure());
        }
        String value = lookup.apply(s.contents(), key);
        return value == null ? LookupResult.notFound() : LookupResult.found(value);
    }

    @Override
    public String toString() {
        return spec.toString();
    }
}
