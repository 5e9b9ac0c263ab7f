package org.estafeta.table.regexp;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.table.support.ReloadingFile;

/**
 * A {@code regexp:/path} or {@code pcre:/path} table. Patterns are compiled once per read of the file; the file is
 * read again when it changes ({@link ReloadingFile}: checked at most once a second). While a changed file is broken,
 * lookups answer a temporary failure naming file and line, so mail waits instead of being judged by half a table.
 * Keys are matched as given: case-insensitively unless a rule's {@code i} flag says otherwise.
 */
final class PatternTable implements LookupTable {
    private final String spec;
    private final ReloadingFile<RuleSet> source;

    private PatternTable(String spec, ReloadingFile<RuleSet> source) {
        this.spec = spec;
        this.source = source;
    }

    static PatternTable open(Dialect dialect, String spec, Path file, Clock clock) throws TableOpenException {
        String[] failure = new String[1];
        ReloadingFile<RuleSet> source = ReloadingFile.open(file, clock, text -> compile(dialect, file, text),
                why -> failure[0] = why);
        if (source == null) {
            throw new TableOpenException(describe(spec, failure[0]));
        }
        return new PatternTable(spec, source);
    }

    private static RuleSet compile(Dialect dialect, Path file, String text) {
        try {
            return RuleSet.parse(dialect, file.toString(), text);
        } catch (RuleSet.SyntaxError e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Syntax errors name the map, file and line already (Postfix's words); read errors get the table's name. */
    private static String describe(String spec, String failure) {
        return failure.startsWith("open ") ? spec + ": " + failure : failure;
    }

    @Override
    public LookupResult lookup(String key) {
        ReloadingFile.State<RuleSet> current = source.current();
        if (current.failure() != null) {
            return LookupResult.temporaryFailure(describe(spec, current.failure()));
        }
        try {
            Optional<String> value = current.contents().lookup(key);
            return value.isPresent() ? LookupResult.found(value.get()) : LookupResult.notFound();
        } catch (StackOverflowError e) {
            return LookupResult.temporaryFailure(spec + ": backtracking limit exceeded matching the key");
        }
    }

    int size() {
        RuleSet rules = source.current().contents();
        return rules == null ? 0 : rules.size();
    }

    @Override
    public String toString() {
        return spec;
    }
}
