package org.estafeta.table.regexp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.Optional;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;

/**
 * A {@code regexp:/path} or {@code pcre:/path} table. Patterns are compiled once per read of the file; the file is
 * read again when its modification time changes (checked at most once a second). While a changed file is broken,
 * lookups answer a temporary failure naming file and line, so mail waits instead of being judged by half a table.
 * Keys are matched as given: case-insensitively unless a rule's {@code i} flag says otherwise.
 */
final class PatternTable implements LookupTable {
    private static final long RECHECK_MILLIS = 1000;

    private final Dialect dialect;
    private final String spec;
    private final Path file;
    private final Clock clock;
    private volatile State state;

    /** One read of the file: the rules, or why they could not be read. */
    private record State(FileTime mtime, long checkedAt, RuleSet rules, String failure) {
    }

    private PatternTable(Dialect dialect, String spec, Path file, Clock clock, State state) {
        this.dialect = dialect;
        this.spec = spec;
        this.file = file;
        this.clock = clock;
        this.state = state;
    }

    static PatternTable open(Dialect dialect, String spec, Path file, Clock clock) throws TableOpenException {
        State first = read(dialect, spec, file, clock.millis());
        if (first.failure() != null) {
            throw new TableOpenException(first.failure());
        }
        return new PatternTable(dialect, spec, file, clock, first);
    }

    @Override
    public LookupResult lookup(String key) {
        State current = refresh();
        if (current.failure() != null) {
            return LookupResult.temporaryFailure(current.failure());
        }
        try {
            Optional<String> value = current.rules().lookup(key);
            return value.isPresent() ? LookupResult.found(value.get()) : LookupResult.notFound();
        } catch (StackOverflowError e) {
            return LookupResult.temporaryFailure(spec + ": backtracking limit exceeded matching the key");
        }
    }

    int size() {
        return refresh().rules().size();
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
                state = new State(current.mtime(), now, current.rules(), null);
            } else {
                state = read(dialect, spec, file, now);
            }
            return state;
        }
    }

    private static State read(Dialect dialect, String spec, Path file, long now) {
        FileTime mtime = modified(file);
        try {
            byte[] bytes = Files.readAllBytes(file);
            // Postfix reads bytes; a table in Latin-1 still loads (its odd bytes become U+FFFD)
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(bytes)).toString();
            return new State(mtime, now, RuleSet.parse(dialect, file.toString(), text), null);
        } catch (IOException e) {
            return new State(mtime, now, null, spec + ": cannot read: " + e);
        } catch (RuleSet.SyntaxError e) {
            return new State(mtime, now, null, e.getMessage());
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
