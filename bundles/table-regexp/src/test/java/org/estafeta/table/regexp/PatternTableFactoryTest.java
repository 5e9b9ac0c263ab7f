package org.estafeta.table.regexp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The factories over real files: open errors, re-reading a changed file, a broken edit as temporary failure. */
class PatternTableFactoryTest {
    @TempDir
    Path dir;

    final FakePluginContext context = new FakePluginContext();

    @Test
    void readsAgainWhenTheFileChangesAndABrokenEditIsATemporaryFailure() throws Exception {
        Path f = dir.resolve("access.regexp");
        Files.writeString(f, "/^spam@/ REJECT no spam\n");
        LookupTable t = new RegexpTableFactory().open(TableSpec.parse("regexp:" + f), context);
        assertEquals(LookupResult.found("REJECT no spam"), t.lookup("spam@example.com"));
        assertEquals(LookupResult.notFound(), t.lookup("ham@example.com"));

        Files.writeString(f, "/^ham@/ OK\n");
        touch(f, 5_000);
        assertEquals(LookupResult.found("REJECT no spam"), t.lookup("spam@example.com"), "re-checked at most once a second");
        context.millis += 1_500;
        assertEquals(LookupResult.found("OK"), t.lookup("ham@example.com"));
        assertEquals(LookupResult.notFound(), t.lookup("spam@example.com"));

        Files.writeString(f, "/^ham@/ OK\n/unterminated\n");
        touch(f, 10_000);
        context.millis += 1_500;
        LookupResult broken = t.lookup("ham@example.com");
        assertInstanceOf(LookupResult.TemporaryFailure.class, broken);
        assertTrue(((LookupResult.TemporaryFailure) broken).reason().contains(f + ", line 2"), broken.toString());

        Files.delete(f);
        context.millis += 1_500;
        LookupResult gone = t.lookup("ham@example.com");
        assertInstanceOf(LookupResult.TemporaryFailure.class, gone);
        assertTrue(((LookupResult.TemporaryFailure) gone).reason().startsWith("regexp:" + f + ": open " + f),
                gone.toString());

        Files.writeString(f, "/^ham@/ DUNNO\n");
        context.millis += 1_500;
        assertEquals(LookupResult.found("DUNNO"), t.lookup("ham@example.com"));
    }

    @Test
    void openErrorsNameTheTable() throws Exception {
        Path missing = dir.resolve("nope.pcre");
        TableOpenException e = assertThrows(TableOpenException.class,
                () -> new PcreTableFactory().open(TableSpec.parse("pcre:" + missing), context));
        assertEquals("pcre:" + missing + ": open " + missing + ": No such file or directory", e.getMessage());
        assertThrows(TableOpenException.class,
                () -> new PcreTableFactory().open(TableSpec.parse("pcre:relative.pcre"), context));
        Path bad = dir.resolve("bad.pcre");
        Files.writeString(bad, "/ok/ x\n/(unclosed/ y\n");
        TableOpenException syntax = assertThrows(TableOpenException.class,
                () -> new PcreTableFactory().open(TableSpec.parse("pcre:" + bad), context));
        assertTrue(syntax.getMessage().contains(bad + ", line 2"), syntax.getMessage());
    }

    private static void touch(Path f, long plusMillis) throws Exception {
        Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + plusMillis));
    }
}
