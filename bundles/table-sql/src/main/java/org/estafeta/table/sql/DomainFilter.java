package org.estafeta.table.sql;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.table.support.LogicalLines;
import org.estafeta.table.support.ReloadingFile;

/**
 * The {@code domain} parameter: Postfix's string match list of domain names, {@code /file/name} (its lines are
 * more patterns), {@code type:table} (the domain is looked up) and {@code !pattern} (negation), first match wins.
 * Only keys {@code user@domain} with a non-empty local part and a listed domain are looked up in the database.
 * Thread-safe; the tables it opened are closed with it.
 */
final class DomainFilter implements AutoCloseable {
    /** Opens a {@code type:table} named in the list; it throws when the type is unknown or the table won't open. */
    @FunctionalInterface
    interface TableOpener {
        LookupTable open(TableSpec spec) throws TableOpenException;
    }

    /** The verdict for one key. */
    enum Verdict { LOOK_UP, SKIP, FAIL }

    private record Pattern(boolean match, String text, LookupTable table, String failure) {
    }

    private final List<Pattern> patterns;

    private DomainFilter(List<Pattern> patterns) {
        this.patterns = patterns;
    }

    /** The filter for {@code list} (the parameter's value), or {@code null} when it is empty. */
    static DomainFilter parse(String configName, String list, TableOpener opener) throws TableOpenException {
        if (list.isEmpty()) {
            return null;
        }
        List<Pattern> out = new ArrayList<>();
        try {
            parse(configName, list, true, opener, out);
        } catch (TableOpenException | RuntimeException e) {
            new DomainFilter(out).close();
            throw e;
        }
        return new DomainFilter(out);
    }

    private static void parse(String configName, String text, boolean initial, TableOpener opener,
            List<Pattern> out) throws TableOpenException {
        for (String token : org.estafeta.table.support.PostfixTokens.split(text)) {
            boolean match = initial;
            int i = 0;
            while (i < token.length() && token.charAt(i) == '!') {
                match = !match;
                i++;
            }
            String item = token.substring(i);
            if (item.isEmpty()) {
                throw new TableOpenException(configName + ": no pattern after '!'");
            }
            if (item.charAt(0) == '/') {
                String contents;
                try {
                    contents = Files.readString(Path.of(item), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    // Postfix's graceful degradation: a pseudo table whose lookups fail
                    out.add(new Pattern(match, item, null, "open file " + item + ": " + ReloadingFile.reason(e)));
                    continue;
                }
                for (LogicalLines.Line line : LogicalLines.split(item, contents, w -> { })) {
                    parse(configName, line.text(), match, opener, out);
                }
            } else if (item.charAt(0) != '[' && item.indexOf(':') >= 0) {
                out.add(new Pattern(match, item, opener.open(TableSpec.parse(item)), null));
            } else {
                out.add(new Pattern(match, item.toLowerCase(Locale.ROOT), null, null));
            }
        }
    }

    /**
     * Whether {@code key} may be looked up (db_common_check_domain); on {@link Verdict#FAIL} {@code why} receives
     * the reason (a table in the list could not answer).
     */
    Verdict check(String key, StringBuilder why) {
        int at = key.lastIndexOf('@');
        if (at <= 0) {
            return Verdict.SKIP;
        }
        String domain = key.substring(at + 1).toLowerCase(Locale.ROOT);
        for (Pattern p : patterns) {
            if (p.failure() != null) {
                why.append(p.failure());
                return Verdict.FAIL;
            }
            if (p.table() != null) {
                LookupResult r = p.table().lookup(domain);
                if (r instanceof LookupResult.Found) {
                    return p.match() ? Verdict.LOOK_UP : Verdict.SKIP;
                }
                if (r instanceof LookupResult.TemporaryFailure f) {
                    why.append(p.text()).append(": table lookup problem: ").append(f.reason());
                    return Verdict.FAIL;
                }
            } else if (p.text().equals(domain)) {
                return p.match() ? Verdict.LOOK_UP : Verdict.SKIP;
            }
        }
        return Verdict.SKIP;
    }

    @Override
    public void close() {
        for (Pattern p : patterns) {
            if (p.table() != null) {
                try {
                    p.table().close();
                } catch (RuntimeException ignored) {
                    // closing is best effort
                }
            }
        }
    }
}
