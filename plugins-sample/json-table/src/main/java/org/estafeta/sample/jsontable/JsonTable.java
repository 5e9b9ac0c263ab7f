package org.estafeta.sample.jsontable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.Locale;
import java.util.Map;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;

/**
 * A {@code json:/path/file.json} table. Keys are matched without regard to case, as Postfix's indexed tables
 * ({@code hash:}, {@code lmdb:}) do. The file is read again when its modification time changes (checked at most
 * once a second); while a changed file is broken, lookups answer a temporary failure naming the cause, so mail
 * waits instead of being routed by half a table.
 */
final class JsonTable implements LookupTable {
    private static final long RECHECK_MILLIS = 1000;

    private final String spec;
    private final Path file;
    private final Clock clock;
    private volatile State state;

    /** What the table holds after one read of the file: entries, or the reason they could not be read. */
    private record State(FileTime mtime, long checkedAt, Map<String, String> entries, String failure) {
    }

    private JsonTable(String spec, Path file, Clock clock, State state) {
        this.spec = spec;
        this.file = file;
        this.clock = clock;
        this.state = state;
    }

    static JsonTable open(String spec, Path file, Clock clock) throws TableOpenException {
        State first = read(spec, file, clock.millis());
        if (first.failure() != null) {
            throw new TableOpenException(first.failure());
        }
        return new JsonTable(spec, file, clock, first);
    }

    @Override
    public LookupResult lookup(String key) {
        State current = refresh();
        if (current.failure() != null) {
            return LookupResult.temporaryFailure(current.failure());
        }
        String value = current.entries().get(key.toLowerCase(Locale.ROOT));
        return value == null ? LookupResult.notFound() : LookupResult.found(value);
    }

    int size() {
        return refresh().entries().size();
    }

    private State refresh() {
        State current = state;
        long now = clock.millis();
        if (now - current.checkedAt() < RECHECK_MILLIS) {
            return current;
        }
        synchronized (this) {
            current = state;
            if (now - current.checkedAt() < RECHECK_MILLIS) {
                return current;
            }
            FileTime mtime = modified(file);
            if (mtime != null && mtime.equals(current.mtime()) && current.failure() == null) {
                state = new State(current.mtime(), now, current.entries(), null);
            } else {
                state = read(spec, file, now);
            }
            return state;
        }
    }

    private static State read(String spec, Path file, long now) {
        FileTime mtime = modified(file);
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            Map<String, String> parsed = FlatJson.parse(text);
            Map<String, String> folded = new java.util.HashMap<>();
            for (Map.Entry<String, String> e : parsed.entrySet()) {
                folded.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue());
            }
            return new State(mtime, now, Map.copyOf(folded), null);
        } catch (IOException e) {
            return new State(mtime, now, Map.of(), spec + ": cannot read: " + e);
        } catch (IllegalArgumentException e) {
            return new State(mtime, now, Map.of(), spec + ": " + e.getMessage());
        }
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return spec;
    }
}
