package org.estafeta.table.hash;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The {@code postmap} and {@code postalias} commands on indexed tables, with Postfix's options, messages (Postfix 3.7's, as Debian ships it) and exit
 * codes: build {@code FILE.db} from {@code FILE}; {@code -q KEY} (0 found, 1 not found; {@code -q -} reads keys
 * from standard input), {@code -s} (list), {@code -i} (add entries from standard input), {@code -d KEY} (delete),
 * {@code -f} (no case folding), {@code -r}/{@code -w} (replace or silently ignore duplicates). {@code -N}, {@code -n},
 * {@code -o}, {@code -p} and {@code -v} are accepted and change nothing. Tables of other types are looked up through
 * {@link Gateway} (the running gateway); the other operations need an indexed type.
 */
public final class PostmapCommand {
    /** Looks up a key in a table type that this class does not read itself; prints the answer, returns the exit code. */
    @FunctionalInterface
    public interface Gateway {
        int query(String key, String table);
    }

    private final String program;
    private final boolean alias;
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final Clock clock;
    private boolean fold = true;
    private IndexWriter.Duplicates duplicates = IndexWriter.Duplicates.KEEP_FIRST;
    private boolean warnDuplicates = true;

    private PostmapCommand(String program, InputStream in, PrintStream out, PrintStream err, Clock clock) {
        this.program = program;
        this.alias = program.equals("postalias");
        this.in = in;
        this.out = out;
        this.err = err;
        this.clock = clock;
    }

    /** Thrown for Postfix's {@code fatal:} messages. */
    private static final class Fatal extends Exception {
        private static final long serialVersionUID = 1L;

        Fatal(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Runs {@code program} ({@code postmap} or {@code postalias}) with {@code args} (without {@code -c DIR}, which
     * the caller has applied); {@code defaultType} is main.cf's {@code default_database_type}.
     *
     * @return the exit code
     */
    public static int run(String program, List<String> args, String defaultType, InputStream in, PrintStream out,
            PrintStream err, Clock clock, Gateway gateway) {
        PostmapCommand c = new PostmapCommand(program, in, out, err, clock);
        try {
            return c.execute(args, defaultType, gateway);
        } catch (Fatal f) {
            out.flush();
            err.println(program + ": fatal: " + f.getMessage());
            return 1;
        } catch (IOException e) {
            out.flush();
            err.println(program + ": fatal: " + e.getMessage());
            return 1;
        } finally {
            out.flush();
        }
    }

    private int execute(List<String> args, String defaultType, Gateway gateway) throws Fatal, IOException {
        boolean incremental = false;
        boolean list = false;
        String query = null;
        String delete = null;
        int i = 0;
        for (; i < args.size() && args.get(i).startsWith("-") && args.get(i).length() > 1; i++) {
            String a = args.get(i);
            if (a.equals("--")) {
                i++;
                break;
            }
            for (int j = 1; j < a.length(); j++) {
                char o = a.charAt(j);
                switch (o) {
                    case 'f' -> fold = false;
                    case 'r' -> {
                        duplicates = IndexWriter.Duplicates.REPLACE;
                        warnDuplicates = false;
                    }
                    case 'w' -> {
                        duplicates = IndexWriter.Duplicates.KEEP_FIRST;
                        warnDuplicates = false;
                    }
                    case 'N', 'n', 'o', 'p', 'v' -> {
                    }
                    case 'i' -> incremental = true;
                    case 's' -> {
                        // Postfix 3.7's words (Debian's postmap)
                        if (query != null || delete != null) {
                            throw new Fatal("specify only one of -s or -q or -d");
                        }
                        list = true;
                    }
                    case 'd', 'q' -> {
                        if (list || query != null || delete != null) {
                            throw new Fatal("specify only one of -s -q or -d");
                        }
                        String key;
                        if (j + 1 < a.length()) {
                            key = a.substring(j + 1);
                        } else if (i + 1 < args.size()) {
                            key = args.get(++i);
                        } else {
                            return usage();
                        }
                        j = a.length();
                        if (o == 'd') {
                            delete = key;
                        } else {
                            query = key;
                        }
                    }
                    default -> {
                        return usage();
                    }
                }
            }
        }
        List<String> maps = args.subList(i, args.size());
        if (maps.isEmpty()) {
            return usage();
        }
        List<String[]> tables = new ArrayList<>();
        for (String m : maps) {
            int colon = m.indexOf(':');
            tables.add(colon > 0 ? new String[] {m.substring(0, colon), m.substring(colon + 1)}
                    : new String[] {defaultType, m});
        }
        if (delete != null) {
            return delete(tables, delete);
        }
        if (query != null) {
            return query.equals("-") ? queries(tables, gateway) : query(tables, query, gateway);
        }
        if (list) {
            list(tables.get(0));
            return 0;
        }
        for (String[] t : tables) {
            build(t, incremental);
        }
        return 0;
    }

    private int usage() {
        err.println(program + ": fatal: usage: " + program + " [-Nfinoprsvw] [-c config_dir] [-d key] [-q key]"
                + " [map_type:]file...");
        return 1;
    }

    private String fold(String key) {
        return fold ? IndexedTypes.fold(key) : key;
    }

    private Path index(String[] table) throws Fatal {
        if (!IndexedTypes.isIndexed(table[0])) {
            throw new Fatal("unsupported dictionary type: " + table[0]
                    + " (estafeta " + program + " builds and edits " + String.join(", ", IndexedTypes.TYPES) + ")");
        }
        return Path.of(table[1] + IndexedTypes.suffix(table[0]));
    }

    private IndexFile open(String[] table) throws Fatal {
        Path index = index(table);
        try {
            return IndexedTable.openChecked(Path.of(table[1]), index, clock, this::warn);
        } catch (IOException e) {
            throw new Fatal(IndexedTable.describe(index, e));
        }
    }

    private void warn(String text) {
        out.flush();
        err.println(program + ": warning: " + text);
    }

    private int query(List<String[]> tables, String key, Gateway gateway) throws Fatal {
        for (String[] t : tables) {
            if (!IndexedTypes.isIndexed(t[0])) {
                if (gateway.query(key, t[0] + ":" + t[1]) == 0) {
                    return 0;
                }
                continue;
            }
            String value = open(t).get(fold(key));
            if (value != null) {
                out.println(value);
                return 0;
            }
        }
        return 1;
    }

    private int queries(List<String[]> tables, Gateway gateway) throws Fatal, IOException {
        List<IndexFile> files = new ArrayList<>();
        for (String[] t : tables) {
            files.add(open(t));
        }
        boolean found = false;
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null;) {
            String key = line.strip();
            if (key.isEmpty()) {
                continue;
            }
            for (IndexFile f : files) {
                String value = f.get(fold(key));
                if (value != null) {
                    out.println(key + (alias ? ":\t" : "\t") + value);
                    found = true;
                    break;
                }
            }
        }
        return found ? 0 : 1;
    }

    private void list(String[] table) throws Fatal {
        open(table).forEach((k, v) -> out.println(k + (alias ? ":\t" : "\t") + v));
    }

    private int delete(List<String[]> tables, String key) throws Fatal, IOException {
        List<String> keys = new ArrayList<>();
        if (key.equals("-")) {
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null;) {
                if (!line.isBlank()) {
                    keys.add(fold(line.strip()));
                }
            }
        } else {
            keys.add(fold(key));
        }
        boolean found = false;
        for (String[] t : tables) {
            IndexFile old = open(t);
            if (keys.stream().noneMatch(k -> old.get(k) != null)) {
                continue;
            }
            found = true;
            try (IndexWriter w = IndexWriter.create(old.path())) {
                copy(old, w, keys);
                w.commit();
            }
        }
        return found ? 0 : 1;
    }

    /** Copies every entry of {@code from} but {@code except} into {@code to}. */
    private static void copy(IndexFile from, IndexWriter to, List<String> except) throws IOException {
        IOException[] failure = new IOException[1];
        from.forEach((k, v) -> {
            if (failure[0] == null && !except.contains(k)) {
                try {
                    to.put(k, v, IndexWriter.Duplicates.KEEP_FIRST);
                } catch (IOException e) {
                    failure[0] = e;
                }
            }
        });
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    private void build(String[] table, boolean incremental) throws Fatal, IOException {
        Path index = index(table);
        String indexName = table[1] + IndexedTypes.suffix(table[0]);
        try (IndexWriter w = IndexWriter.create(index)) {
            Consumer<String> warn = this::warn;
            SourceFormat.Sink sink = (k, v, line) -> {
                String key = fold(k);
                if (!w.put(key, v, duplicates) && warnDuplicates) {
                    warn(indexName + ": duplicate entry: \"" + key + "\"");
                }
            };
            SourceFormat.Kind kind = alias ? SourceFormat.Kind.POSTALIAS : SourceFormat.Kind.POSTMAP;
            if (incremental) {
                if (Files.exists(index)) {
                    copy(open(table), w, List.of());
                }
                SourceFormat.read(new InputStreamReader(in, StandardCharsets.UTF_8), "stdin", kind, warn, sink);
            } else {
                Reader source;
                try {
                    source = Files.newBufferedReader(Path.of(table[1]), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new Fatal("open " + table[1] + ": " + org.estafeta.table.support.ReloadingFile.reason(e));
                }
                try (source) {
                    SourceFormat.read(source, table[1], kind, warn, sink);
                }
            }
            if (alias) {
                // Postfix's postalias marks a complete alias database with this entry (sendmail compatibility)
                w.put("@", "@", incremental ? IndexWriter.Duplicates.REPLACE : duplicates);
            }
            w.commit();
        }
    }
}
