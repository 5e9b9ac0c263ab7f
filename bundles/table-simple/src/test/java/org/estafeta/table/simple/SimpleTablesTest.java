package org.estafeta.table.simple;

import org.estafeta.testing.FakePluginContext;

import org.estafeta.table.support.LogicalLines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimpleTablesTest {
    @TempDir
    Path dir;

    final FakePluginContext context = new FakePluginContext();

    @Test
    void inlineElementsBracesFoldingAndLastDuplicateWins() throws Exception {
        assertEquals(Map.of("a", "1", "key", "text with spaces", "b", "3"),
                InlineTableFactory.parse("{ A=1, { key = text with spaces } b=2,b=3 }"));
        LookupTable t = new InlineTableFactory().open(TableSpec.parse("inline:{ Foo=bar }"), context);
        assertEquals(LookupResult.found("bar"), t.lookup("FOO"));
        assertEquals(LookupResult.notFound(), t.lookup("foo2"));
        TableOpenException e = assertThrows(TableOpenException.class, () -> InlineTableFactory.parse("{ a }"));
        assertEquals("missing '=' after attribute name: \"inline:{ a }\"; need \"inline:{name=value...}\"",
                e.getMessage());
    }

    @Test
    void staticIsAlwaysFound() throws Exception {
        LookupTable t = new StaticTableFactory().open(TableSpec.parse("static:{  REJECT go away  }"), context);
        assertEquals(LookupResult.found("REJECT go away"), t.lookup("anything"));
        assertEquals("x y", StaticTableFactory.value("x y"));
        assertEquals("bad static:name syntax: syntax error after '}' in \"{a}b\"",
                assertThrows(TableOpenException.class, () -> StaticTableFactory.value("{a}b")).getMessage());
    }

    @Test
    void logicalLinesFollowReadllines() {
        List<String> warnings = new ArrayList<>();
        List<LogicalLines.Line> lines = LogicalLines.split("f", " lead\nabc\n#c\n\n def\nx", warnings::add);
        assertEquals(List.of(new LogicalLines.Line(2, "abc def"), new LogicalLines.Line(6, "x")), lines);
        assertEquals(List.of("f: logical line must not start with whitespace: \" lead\""), warnings);
    }

    @Test
    void texthashSplitsFoldsWarnsAndRereads() throws Exception {
        Path f = dir.resolve("access");
        Files.writeString(f, "Key value\n  more\nbad\nkey other\n\"a b\" quoted\n");
        LookupTable t = new TextHashTableFactory().open(TableSpec.parse("texthash:" + f), context);
        assertEquals(LookupResult.found("value  more"), t.lookup("KEY"));
        assertEquals(LookupResult.found("quoted"), t.lookup("\"a b\""));
        assertEquals(List.of(f + ", line 3: expected format: key whitespace value -- ignoring this line",
                f + ", line 4: duplicate entry: \"key\""), context.warnings);

        Files.writeString(f, "key changed\n");
        Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 5000));
        assertEquals(LookupResult.found("value  more"), t.lookup("key"));
        context.millis += 1500;
        assertEquals(LookupResult.found("changed"), t.lookup("key"));
        Files.delete(f);
        context.millis += 1500;
        assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("key"));
        assertEquals("texthash:" + f + ": open database " + f + ": No such file or directory",
                assertThrows(TableOpenException.class,
                        () -> new TextHashTableFactory().open(TableSpec.parse("texthash:" + f), context)).getMessage());
    }
}
