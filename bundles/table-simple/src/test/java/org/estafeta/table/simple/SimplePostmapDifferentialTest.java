package org.estafeta.table.simple;

import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Postmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * inline:, static: and texthash: tables through Debian's {@code postmap -q} and through this bundle: the same value
 * or "not found" for every key of a corpus, the same fatal text for a table Postfix refuses, the same warnings.
 */
class SimplePostmapDifferentialTest {
    @TempDir
    Path dir;

    static final List<String> KEYS = List.of("a", "A", "b", "key", "KEY", "spaced", "x y", "\"q k\"", "q k",
            "e", "empty", "c", "d", "user@example.com", "USER@Example.COM", "example.com", "@example.com",
            "1.2.3.4", "nope", "", "k2", "k3", "k4", "a\\ b", "tab", "alias:", "dup", "Dup", "#c", "cont", "esc\\");

    /** Tables Postfix opens; each with the keys above. */
    static final List<String> GOOD_INLINE = List.of(
            "inline:{ a=1, b=2 }",
            "inline:{a=1,B=2,A=3}",
            "inline:{ { key = text with spaces }, {spaced=  x  } , e= }",
            "inline:{ {\"q k\" = quoted key}, k2=v2 k3=v3,,k4=v4 }",
            "inline:{ c={nested braces}, d= }",
            "inline:{ user@example.com=OK, example.com=REJECT, @example.com=DUNNO }",
            "inline:{{a=b}}",
            "inline:{ {a\\ b=escaped} }");

    static final List<String> BAD_INLINE = List.of("inline:{}", "inline:{ }", "inline:{ a }", "inline:a=b",
            "inline:{a=b}x", "inline:{ {a=b}x }", "inline:{ { } }", "inline:{ \"a = b }", "inline:{ a b = c }",
            "inline:{ {a}=b }", "inline:{a=b", "inline:{ c={nested braces}, d = }",
            "inline:{ a\\ b=escaped }");

    static final List<String> GOOD_STATIC = List.of("static:OK", "static:REJECT go away", "static:{ text with spaces }",
            "static:{}", "static:{ {nested} }", "static:x}y{");

    static final List<String> BAD_STATIC = List.of("static:{ a b", "static:{a}b", "static:{a}}", "static:");

    static final String TEXTHASH = """
            # a postmap source file
            a            1
            B            two
            Key          value with   inner spaces   \s
            spaced
              continued value
            # comment between
             and more
            "q k"        quoted key
            user@example.com   OK
            Example.COM  REJECT no
            @example.com DUNNO
            1.2.3.4      554 5.7.1 go away
            tab\tvalue after tab
            alias:       looks like an alias
            dup          first
            DUP          second
            a\\ b         escaped space
            esc\\
            noval
             leading
            "unbalanced  x
            cont\s
             x
            """;

    @Test
    void inlineTablesAnswerAsPostmap() throws Exception {
        Postmap.require();
        int found = 0;
        for (String table : GOOD_INLINE) {
            found += compare(new InlineTableFactory(), table);
        }
        assertTrue(found >= 20, "found " + found);
    }

    @Test
    void inlineTablesPostfixRefusesAreRefusedWithItsText() throws Exception {
        Postmap.require();
        for (String table : BAD_INLINE) {
            compareRefused(new InlineTableFactory(), table);
        }
    }

    @Test
    void staticTablesAnswerAsPostmap() throws Exception {
        Postmap.require();
        for (String table : GOOD_STATIC) {
            assertEquals(KEYS.size(), compare(new StaticTableFactory(), table), table);
        }
        for (String table : BAD_STATIC) {
            compareRefused(new StaticTableFactory(), table);
        }
    }

    @Test
    void texthashAnswersAsPostmapWithTheSameWarnings() throws Exception {
        Postmap.require();
        Path f = dir.resolve("access");
        Files.writeString(f, TEXTHASH);
        // postmap re-reads a texthash file modified within the last second until it has "cooled down"
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        FakePluginContext context = new FakePluginContext();
        LookupTable t = new TextHashTableFactory().open(TableSpec.parse("texthash:" + f), context);
        List<String> mismatches = new ArrayList<>();
        List<String> postfixWarnings = null;
        int found = 0;
        for (String key : KEYS) {
            Postmap.Answer want = Postmap.query(key, "texthash:" + f);
            postfixWarnings = want.warnings();
            LookupResult expected = want.value() == null ? LookupResult.notFound() : LookupResult.found(want.value());
            LookupResult got = t.lookup(key);
            if (!expected.equals(got)) {
                mismatches.add("key \"" + key + "\": postmap " + expected + ", estafeta " + got);
            }
            found += want.value() == null ? 0 : 1;
        }
        assertEquals(List.of(), mismatches);
        assertTrue(found >= 12 && found < KEYS.size(), "found " + found);
        assertEquals(postfixWarnings, context.warnings);
        assertTrue(context.warnings.size() >= 4, context.warnings.toString());
    }

    private int compare(LookupTableFactory factory, String table) throws Exception {
        LookupTable t = factory.open(TableSpec.parse(table), new FakePluginContext());
        List<String> mismatches = new ArrayList<>();
        int found = 0;
        for (String key : KEYS) {
            Postmap.Answer want = Postmap.query(key, table);
            if (want.fatal() != null) {
                fail(table + ": postmap refused it: " + want.fatal());
            }
            LookupResult expected = want.value() == null ? LookupResult.notFound() : LookupResult.found(want.value());
            LookupResult got = t.lookup(key);
            if (!expected.equals(got)) {
                mismatches.add(table + " key \"" + key + "\": postmap " + expected + ", estafeta " + got);
            }
            found += want.value() == null ? 0 : 1;
        }
        assertEquals(List.of(), mismatches);
        return found;
    }

    private void compareRefused(LookupTableFactory factory, String table) throws Exception {
        Postmap.Answer want = Postmap.query("a", table);
        assertNotNull(want.fatal(), table + ": postmap accepted it: " + want);
        try {
            factory.open(TableSpec.parse(table), new FakePluginContext());
            fail(table + ": opened, but postmap says: " + want.fatal());
        } catch (TableOpenException e) {
            assertTrue(e.getMessage().endsWith(want.fatal()), table + ": postmap says \"" + want.fatal()
                    + "\", estafeta says \"" + e.getMessage() + "\"");
        }
    }
}
