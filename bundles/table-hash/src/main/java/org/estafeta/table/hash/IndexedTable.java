package org.estafeta.table.hash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.Consumer;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.table.support.ReloadingFile;

/**
 * An open indexed table ({@code hash:/etc/estafeta/transport} reads {@code /etc/estafeta/transport.db}). Keys are
 * folded to lower case (ASCII letters, {@link IndexedTypes#fold}) before the lookup, as Postfix's daemons look up indexed tables. At most once a second (on the
 * given clock) a lookup checks the index file's identity (inode, modification time, size); when {@code postmap}
 * renamed a new index over it, the new one is opened and used from then on, without a restart. While the index
 * cannot be opened, lookups are temporary failures naming the file and the cause.
 */
public final class IndexedTable implements LookupTable {
    private final TableSpec spec;
    private final Path source;
    private final Path index;
    private final Clock clock;
    private final Consumer<String> warn;
    private volatile State state;

    private record State(IndexFile file, String failure, long checkedAt) {
    }

    private IndexedTable(TableSpec spec, Path source, Path index, Clock clock, Consumer<String> warn, State first) {
        this.spec = spec;
        this.source = source;
        this.index = index;
        this.clock = clock;
        this.warn = warn;
        this.state = first;
    }

    /**
     * Opens {@code spec} (an indexed type, an absolute file name); {@code warn} receives Postfix's warning when the
     * source file is newer than its index.
     *
     * @throws TableOpenException {@code hash:/x: open database /x.db: No such file or directory}, or the reason the
     *         file is not a usable index
     */
    public static IndexedTable open(TableSpec spec, Clock clock, Consumer<String> warn) throws TableOpenException {
        Path source = Path.of(spec.name());
        if (!source.isAbsolute()) {
            throw new TableOpenException(spec + ": the file name must be an absolute path");
        }
        Path index = Path.of(spec.name() + IndexedTypes.suffix(spec.type()));
        try {
            IndexFile file = openChecked(source, index, clock, warn);
            return new IndexedTable(spec, source, index, clock, warn, new State(file, null, clock.millis()));
        } catch (IOException e) {
            throw new TableOpenException(spec + ": " + describe(index, e), e);
        }
    }

    /**
     * Opens {@code index} for {@code source}, warning as Postfix's dict_db does when the source changed after the
     * index was built (and not within the last 100 seconds, while an operator may still be editing it).
     */
    public static IndexFile openChecked(Path source, Path index, Clock clock, Consumer<String> warn) throws IOException {
        IndexFile file = IndexFile.open(index);
        try {
            long sourceSeconds = Files.getLastModifiedTime(source).toMillis() / 1000;
            long indexSeconds = file.identity().modifiedMillis() / 1000;
            if (sourceSeconds > indexSeconds && sourceSeconds < clock.millis() / 1000 - 100) {
                warn.accept("database " + index + " is older than source file " + source);
            }
        } catch (IOException noSource) {
            // an index without its source is fine
        }
        return file;
    }

    /** Postfix's wording of an open failure: {@code open database FILE.db: No such file or directory}. */
    public static String describe(Path index, IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith(index.toString() + ":")) {
            return e.getMessage();
        }
        return "open database " + index + ": " + ReloadingFile.reason(e);
    }

    /** The index as currently open (for the "opened, N entries" log line). */
    public IndexFile index() {
        return current().file();
    }

    @Override
    public LookupResult lookup(String key) {
        State s = current();
        if (s.failure() != null) {
            return LookupResult.temporaryFailure(spec + ": " + s.failure());
        }
        String value = s.file().get(IndexedTypes.fold(key));
        return value == null ? LookupResult.notFound() : LookupResult.found(value);
    }

    private State current() {
        State s = state;
        long now = clock.millis();
        if (now - s.checkedAt() < ReloadingFile.RECHECK_MILLIS) {
            return s;
        }
        synchronized (this) {
            s = state;
            if (now - s.checkedAt() < ReloadingFile.RECHECK_MILLIS) {
                return s;
            }
            IndexFile.Identity id = IndexFile.Identity.of(index);
            if (s.failure() == null && id != null && id.equals(s.file().identity())) {
                state = new State(s.file(), null, now);
            } else {
                try {
                    state = new State(openChecked(source, index, clock, warn), null, now);
                } catch (IOException e) {
                    state = new State(s.file(), describe(index, e), now);
                }
            }
            return state;
        }
    }

    @Override
    public String toString() {
        return spec.toString();
    }
}
