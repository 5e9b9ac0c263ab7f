package org.estafeta.table.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.table.hash.internal.IndexedTableFactory;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Peers;
import org.estafeta.testing.Postmap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same sources through Debian's postmap/postalias and through {@code estafeta postmap}/{@code postalias}
 * ({@link PostmapCommand}) in two separate directories: the same lookups (present, absent and case-folded keys,
 * through {@code postmap -q} and through the table the gateway opens), the same {@code -s} listing as a set, the same
 * warnings and exit codes, for the tutorial's tables and for sources full of syntax corner cases.
 */
class PostmapDifferentialTest {
    static final String POSTALIAS = "/usr/sbin/postalias";
    static final List<String> TUTORIAL = List.of("2.1-transport", "2.2-transport", "3-relay-final-transport",
            "3-relay-transport", "3-smtp-postfix-transport", "3-smtp-sendmail-transport", "virtual", "access",
            "canonical", "relocated");

    static final String QUIRKS = """
            # comments, continuations, quotes, duplicates, bad lines
            Key          value with   inner spaces   \s
            spaced
              continued value
            # comment between
             and more
            "q k"        quoted key
            User@Example.COM   OK
            tab\tvalue after tab
            alias:       looks like an alias
            dup          first
            DUP          second
            a\\ b         escaped space
            esc\\
            noval
             leading
            "unbalanced  x
            ünïcode      välue
            """;

    static final String ALIAS_QUIRKS = """
            Root: a, b,c
            postmaster:root
            x@y: z
            bad
            "qq x": "|/bin/prog arg", :include:/etc/x, user.name (comment), <a@b>
            root: dup
            a%b: c
            ,x: y
            empty:
            first.last: "First Last" <fl@example.com>, [1.2.3.4]
            Mixed: Value.With.Case
            """;

    @TempDir
    Path dir;
    Path ours;
    Path theirs;

    @BeforeEach
    void dirs() throws Exception {
        Postmap.require();
        Peers.require(POSTALIAS, "postfix");
        ours = Files.createDirectories(dir.resolve("ours"));
        theirs = Files.createDirectories(dir.resolve("theirs"));
    }

    /** One run of a command: exit code, standard output, standard error (paths made relative to its directory). */
    record Run(int exit, String out, String err) {
    }

    Run real(Path cwd, String stdin, String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).directory(cwd.toFile()).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), Arrays.toString(argv));
        return new Run(p.exitValue(), out, err.replace(cwd + "/", ""));
    }

    Run estafeta(Path cwd, String stdin, String program, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        InputStream in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        List<String> a = new ArrayList<>(Arrays.asList(args));
        int exit = PostmapCommand.run(program, a, "hash", in, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Clock.systemUTC(), (k, t) -> {
                    throw new AssertionError("no gateway in this test");
                });
        return new Run(exit, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8).replace(cwd + "/", ""));
    }

    /** Writes {@code text} as {@code name} in both directories, builds both, and checks they agree. */
    void buildBoth(String program, String name, String text, String... options) throws Exception {
        Files.writeString(theirs.resolve(name), text);
        Files.writeString(ours.resolve(name), text);
        List<String> real = new ArrayList<>(List.of("/usr/sbin/" + program));
        real.addAll(List.of(options));
        real.add(theirs.resolve(name).toString());
        Run want = real(theirs, "", real.toArray(String[]::new));
        List<String> mine = new ArrayList<>(List.of(options));
        mine.add(ours.resolve(name).toString());
        Run got = estafeta(ours, "", program, mine.toArray(String[]::new));
        assertEquals(want.exit(), got.exit(), name);
        assertEquals(lines(want.err()), lines(got.err()), name + ": warnings");
    }

    static Set<String> lines(String text) {
        return text.lines().collect(Collectors.toCollection(TreeSet::new));
    }

    /** The -s listing of both, as sets (Postfix's NIS entries YP_* aside: Debian builds postalias with NIS). */
    void sameListing(String program, String name) throws Exception {
        Run want = real(theirs, "", "/usr/sbin/" + program, "-s", theirs.resolve(name).toString());
        Run got = estafeta(ours, "", program, "-s", ours.resolve(name).toString());
        Set<String> wanted = lines(want.out());
        wanted.removeIf(l -> l.startsWith("YP_"));
        assertEquals(wanted, lines(got.out()), name + ": -s");
        assertEquals(want.exit(), got.exit());
    }

    /** For each key: postmap -q (exit code and value) and the gateway's table answer as Postfix's postmap -q. */
    int sameAnswers(String program, String name, Set<String> keys, String... options) throws Exception {
        LookupTable table = new IndexedTableFactory().open(new TableSpec("hash", ours.resolve(name).toString()),
                new FakePluginContext());
        List<String> mismatches = new ArrayList<>();
        int found = 0;
        for (String key : keys) {
            List<String> real = new ArrayList<>(List.of("/usr/sbin/" + program));
            real.addAll(List.of(options));
            real.addAll(List.of("-q", key, theirs.resolve(name).toString()));
            Run want = real(theirs, "", real.toArray(String[]::new));
            List<String> mine = new ArrayList<>(List.of(options));
            mine.addAll(List.of("-q", key, ours.resolve(name).toString()));
            Run got = estafeta(ours, "", program, mine.toArray(String[]::new));
            if (!want.equals(got)) {
                mismatches.add(name + " -q \"" + key + "\": postfix " + want + ", estafeta " + got);
            }
            if (options.length == 0) {
                LookupResult expected = want.exit() == 0 ? LookupResult.found(want.out().strip())
                        : LookupResult.notFound();
                if (!expected.equals(table.lookup(key))) {
                    mismatches.add(name + " table \"" + key + "\": postfix " + expected + ", estafeta "
                            + table.lookup(key));
                }
            }
            found += want.exit() == 0 ? 1 : 0;
        }
        assertEquals(List.of(), mismatches);
        return found;
    }

    /** Every key of the source as written, upper-cased and lower-cased, plus keys that are absent. */
    static Set<String> keysOf(String text) {
        Set<String> keys = new LinkedHashSet<>(List.of("absent", "nope.example", "@", "univ", "1.2.3.4"));
        for (String line : text.lines().toList()) {
            if (line.isBlank() || line.startsWith("#") || Character.isWhitespace(line.charAt(0))) {
                continue;
            }
            String key = line.split("[ \t]+")[0].replaceAll(":$", "");
            keys.addAll(List.of(key, key.toUpperCase(Locale.ROOT), key.toLowerCase(Locale.ROOT)));
        }
        keys.remove("");
        return keys;
    }

    static String resource(String name) throws Exception {
        try (InputStream in = PostmapDifferentialTest.class.getResourceAsStream("/tutorial/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void tutorialTablesAnswerAsPostmap() throws Exception {
        int found = 0;
        for (String name : TUTORIAL) {
            String text = resource(name);
            buildBoth("postmap", name, text);
            sameListing("postmap", name);
            found += sameAnswers("postmap", name, keysOf(text));
        }
        assertTrue(found > 60, "found " + found);
    }

    @Test
    void tutorialAliasesAnswerAsPostalias() throws Exception {
        String text = resource("aliases");
        buildBoth("postalias", "aliases", text);
        sameListing("postalias", "aliases");
        assertTrue(sameAnswers("postalias", "aliases", keysOf(text)) >= 10);
        // postalias's source read by postmap: the same "is this an alias file?" warnings
        buildBoth("postmap", "aliases", text);
        sameListing("postmap", "aliases");
    }

    @Test
    void syntaxCornerCasesGiveTheSameEntriesAndWarnings() throws Exception {
        buildBoth("postmap", "quirks", QUIRKS);
        sameListing("postmap", "quirks");
        Set<String> keys = keysOf(QUIRKS);
        keys.addAll(List.of("\"q k\"", "q k", "a\\ b", "esc\\", "user@example.com", "tab"));
        assertTrue(sameAnswers("postmap", "quirks", keys) >= 10);

        buildBoth("postalias", "al", ALIAS_QUIRKS);
        sameListing("postalias", "al");
        Set<String> aliases = keysOf(ALIAS_QUIRKS);
        aliases.addAll(List.of("qq x", "\"qq x\"", "first.last", "mixed"));
        assertTrue(sameAnswers("postalias", "al", aliases) >= 5);
    }

    @Test
    void optionsAgree() throws Exception {
        // -f: keys kept as written, and not folded at lookup either
        buildBoth("postmap", "nofold", QUIRKS, "-f");
        sameListing("postmap", "nofold");
        sameAnswers("postmap", "nofold", keysOf(QUIRKS), "-f");
        // -r replaces and -w ignores duplicates silently
        buildBoth("postmap", "replace", QUIRKS, "-r");
        sameListing("postmap", "replace");
        buildBoth("postmap", "ignore", QUIRKS, "-w");
        sameListing("postmap", "ignore");

        // -i adds from standard input (the existing entry wins, with a warning); -d deletes
        String more = "new value\nkey replaced?\nNEWER other\n";
        Run want = real(theirs, more, "/usr/sbin/postmap", "-i", theirs.resolve("quirks").toString());
        Files.writeString(theirs.resolve("quirks"), QUIRKS);
        Files.writeString(ours.resolve("quirks"), QUIRKS);
        real(theirs, "", "/usr/sbin/postmap", theirs.resolve("quirks").toString());
        estafeta(ours, "", "postmap", ours.resolve("quirks").toString());
        want = real(theirs, more, "/usr/sbin/postmap", "-i", theirs.resolve("quirks").toString());
        Run got = estafeta(ours, more, "postmap", "-i", ours.resolve("quirks").toString());
        assertEquals(want, got);
        sameListing("postmap", "quirks");
        for (String key : List.of("NEW", "dup", "absent")) {
            want = real(theirs, "", "/usr/sbin/postmap", "-d", key, theirs.resolve("quirks").toString());
            got = estafeta(ours, "", "postmap", "-d", key, ours.resolve("quirks").toString());
            assertEquals(want, got, "-d " + key);
        }
        sameListing("postmap", "quirks");
        // -q - reads keys from standard input
        String keys = "spaced\nABSENT\nkey\n";
        assertEquals(real(theirs, keys, "/usr/sbin/postmap", "-q", "-", theirs.resolve("quirks").toString()),
                estafeta(ours, keys, "postmap", "-q", "-", ours.resolve("quirks").toString()));
        // postalias -i: the @ entry stays
        buildBoth("postalias", "al", ALIAS_QUIRKS);
        assertEquals(real(theirs, "extra: x\n", POSTALIAS, "-i", theirs.resolve("al").toString()).exit(),
                estafeta(ours, "extra: x\n", "postalias", "-i", ours.resolve("al").toString()).exit());
        sameListing("postalias", "al");
    }

    @Test
    void errorsAreWordedAsPostfix() throws Exception {
        // no source file
        Run want = real(theirs, "", "/usr/sbin/postmap", theirs.resolve("missing").toString());
        Run got = estafeta(ours, "", "postmap", ours.resolve("missing").toString());
        assertEquals(want, got);
        // no index: postmap -q and the gateway's open
        want = real(theirs, "", "/usr/sbin/postmap", "-q", "x", "hash:" + theirs.resolve("missing"));
        got = estafeta(ours, "", "postmap", "-q", "x", "hash:" + ours.resolve("missing"));
        assertEquals(want, got);
        try {
            new IndexedTableFactory().open(new TableSpec("hash", ours.resolve("missing").toString()),
                    new FakePluginContext());
            throw new AssertionError("opened a missing index");
        } catch (TableOpenException e) {
            assertTrue(want.err().contains(e.getMessage().replace("hash:" + ours.resolve("missing") + ": ", "")
                    .replace(ours + "/", "")), e.getMessage() + " vs " + want.err());
        }
        // one of -d -i -q -s
        want = real(theirs, "", "/usr/sbin/postmap", "-s", "-q", "x", theirs.resolve("missing").toString());
        got = estafeta(ours, "", "postmap", "-s", "-q", "x", ours.resolve("missing").toString());
        assertEquals(want, got);
    }
}
