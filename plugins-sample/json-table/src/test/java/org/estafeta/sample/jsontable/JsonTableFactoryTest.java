package org.estafeta.sample.jsontable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonTableFactoryTest {
    @TempDir
    Path dir;

    /** A clock the test moves by hand, so that the once-a-second re-check is exercised without sleeping. */
    static final class ManualClock extends Clock {
        long millis = 1_000_000;

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    final ManualClock clock = new ManualClock();

    final PluginContext context = new PluginContext() {
        @Override
        public System.Logger logger() {
            return System.getLogger("json-table-test");
        }

        @Override
        public Optional<String> parameter(String name) {
            return Optional.empty();
        }

        @Override
        public Clock clock() {
            return clock;
        }
    };

    @Test
    void foundNotFoundAndCaseFolding() throws Exception {
        Path f = dir.resolve("transport.json");
        Files.writeString(f, "{\"Example.COM\": \"smtp:[relay.example.com]\"}");
        LookupTable t = new JsonTableFactory().open(TableSpec.parse("json:" + f), context);
        assertEquals(LookupResult.found("smtp:[relay.example.com]"), t.lookup("example.com"));
        assertEquals(LookupResult.found("smtp:[relay.example.com]"), t.lookup("EXAMPLE.com"));
        assertEquals(LookupResult.notFound(), t.lookup("example.org"));
    }

    @Test
    void brokenOrMissingFileFailsToOpenNamingTheTable() throws Exception {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\n\"a\" \"b\"}");
        TableOpenException e = assertThrows(TableOpenException.class,
                () -> new JsonTableFactory().open(TableSpec.parse("json:" + f), context));
        assertEquals("json:" + f + ": line 2: expected ':' but found '\"'", e.getMessage());
        TableOpenException missing = assertThrows(TableOpenException.class,
                () -> new JsonTableFactory().open(TableSpec.parse("json:" + dir.resolve("nope.json")), context));
        assertTrue(missing.getMessage().startsWith("json:" + dir.resolve("nope.json") + ": cannot read"), missing.getMessage());
        assertThrows(TableOpenException.class, () -> new JsonTableFactory().open(TableSpec.parse("json:relative.json"), context));
    }

    @Test
    void rereadsAChangedFileAndTurnsABrokenEditIntoTemporaryFailure() throws Exception {
        Path f = dir.resolve("t.json");
        Files.writeString(f, "{\"a\": \"1\"}");
        LookupTable t = new JsonTableFactory().open(TableSpec.parse("json:" + f), context);
        assertEquals(LookupResult.found("1"), t.lookup("a"));

        Files.writeString(f, "{\"a\": \"2\"}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 5000));
        assertEquals(LookupResult.found("1"), t.lookup("a"), "re-checked at most once a second");
        clock.millis += 1500;
        assertEquals(LookupResult.found("2"), t.lookup("a"));

        Files.writeString(f, "{\"a\": ");
        Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 10000));
        clock.millis += 1500;
        LookupResult broken = t.lookup("a");
        assertInstanceOf(LookupResult.TemporaryFailure.class, broken);
        assertTrue(((LookupResult.TemporaryFailure) broken).reason().contains("unexpected end of file"), broken.toString());

        Files.writeString(f, "{\"a\": \"3\"}");
        Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 20000));
        clock.millis += 1500;
        assertEquals(LookupResult.found("3"), t.lookup("a"));
    }
}
