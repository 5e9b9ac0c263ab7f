package org.estafeta.table.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Peers;
import org.estafeta.testing.ProcessRunner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sqlite: tables side by side with Debian's {@code postmap -q KEY sqlite:FILE} (postfix-sqlite). */
class SqliteTableTest {
    static final String SQLITE3 = "/usr/bin/sqlite3";

    @TempDir
    static Path dir;
    static Path db;
    static PostfixPostmap postmap;

    @BeforeAll
    static void database() throws Exception {
        Peers.require(SQLITE3, "sqlite3");
        db = dir.resolve("mail.sqlite");
        ProcessRunner.run(List.of(SQLITE3, db.toString()), Map.of(), SqlCorpus.schema("\\"), 30).ok();
        postmap = new PostfixPostmap(dir);
    }

    @Test
    void answersAsPostmapForEveryKeyAndConfiguration() throws Exception {
        String connection = "dbpath = " + db + "\n";
        Map<String, Path> configs = SqlCorpus.write(dir, connection, "sqlite:" + PostfixPostmap.writeConfig(
                dir.resolve("domains.cf"), connection + "query = SELECT domain FROM domains WHERE domain='%s'\n"));
        SqlCorpus.compare(postmap, new SqliteTableFactory(), "sqlite", configs);
    }

    @Test
    void quotingAttacksChangeNothing() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("attack.cf"),
                "dbpath = " + db + "\nquery = SELECT goto FROM aliases WHERE address='%s'\n");
        try (LookupTable t = new SqliteTableFactory().open(TableSpec.parse("sqlite:" + cf), new FakePluginContext())) {
            assertEquals(LookupResult.notFound(), t.lookup("x' OR '1'='1"));
            assertEquals(LookupResult.notFound(), t.lookup("x'; DELETE FROM aliases; --"));
            assertEquals(LookupResult.found("quoted@example.com"), t.lookup("a'b@example.com"));
        }
        String count = ProcessRunner.run(List.of(SQLITE3, db.toString(), "SELECT count(*) FROM aliases"), 30).ok()
                .stdout().trim();
        assertEquals("14", count);
    }

    @Test
    void warnsAboutUnquotedExpansionsAsCurrentPostfixDoes() throws Exception {
        // Postfix 3.9's dict_sqlite warning (Debian's 3.7 predates it, so the text is checked here, not compared)
        Path cf = PostfixPostmap.writeConfig(dir.resolve("unquoted.cf"),
                "dbpath = " + db + "\nquery = SELECT goto FROM aliases WHERE address=%s AND '%u' = '%%'\n");
        FakePluginContext context = new FakePluginContext();
        new SqliteTableFactory().open(TableSpec.parse("sqlite:" + cf), context).close();
        assertEquals(List.of("sqlite:" + cf + ": query >SELECT goto FROM aliases WHERE address=%s AND '%u' = '%%'< "
                + "contains >%s< without the recommended '' quotes"), context.warnings);
    }

    @Test
    void aBadLineIsRefusedNamingFileAndLine() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("bad.cf"),
                "dbpath = " + db + "\n# fine\nquery SELECT 1\n");
        TableOpenException e = assertThrows(TableOpenException.class,
                () -> new SqliteTableFactory().open(TableSpec.parse("sqlite:" + cf), new FakePluginContext()));
        String postfix = postmap.query("x", "sqlite:" + cf).stderr().trim().replaceFirst("^postmap: fatal: ", "");
        assertEquals("sqlite:" + cf + ": " + postfix, e.getMessage());
        assertTrue(e.getMessage().contains(cf + ", line 3: missing '=' after attribute name"), e.getMessage());
    }

    @Test
    void aBadTemplateOrMissingDatabaseIsRefused() throws Exception {
        Path template = PostfixPostmap.writeConfig(dir.resolve("template.cf"),
                "dbpath = " + db + "\nquery = SELECT goto FROM aliases WHERE address='%x'\n");
        TableOpenException e = assertThrows(TableOpenException.class,
                () -> new SqliteTableFactory().open(TableSpec.parse("sqlite:" + template), new FakePluginContext()));
        String postfix = postmap.query("x", "sqlite:" + template).stderr().trim()
                .replaceFirst("^postmap: fatal: ", "");
        assertEquals("sqlite:" + template + ": " + postfix, e.getMessage());

        Path missing = PostfixPostmap.writeConfig(dir.resolve("missing.cf"),
                "dbpath = " + dir.resolve("nonexistent.sqlite") + "\nquery = SELECT 1\n");
        e = assertThrows(TableOpenException.class,
                () -> new SqliteTableFactory().open(TableSpec.parse("sqlite:" + missing), new FakePluginContext()));
        assertTrue(e.getMessage().startsWith("sqlite:" + missing + ": open database "), e.getMessage());
        assertTrue(Files.notExists(dir.resolve("nonexistent.sqlite")), "opened read-only, never created");
    }

    @Test
    void aFailingQueryIsATemporaryFailureWithAWarning() throws Exception {
        Path cf = PostfixPostmap.writeConfig(dir.resolve("notable.cf"),
                "dbpath = " + db + "\nquery = SELECT goto FROM nosuchtable WHERE address='%s'\n");
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = new SqliteTableFactory().open(TableSpec.parse("sqlite:" + cf), context)) {
            LookupResult r = t.lookup("info@example.com");
            assertInstanceOf(LookupResult.TemporaryFailure.class, r);
            String reason = ((LookupResult.TemporaryFailure) r).reason();
            assertTrue(reason.startsWith("sqlite:" + cf + ": SQL step failed: "), reason);
            assertInstanceOf(LookupResult.TemporaryFailure.class, postmap.query("info@example.com", "sqlite:" + cf)
                    .result());
            assertTrue(context.warnings.get(0).startsWith("sqlite:" + cf + ": "), context.warnings.toString());
            assertTrue(context.warnings.get(0).contains("nosuchtable"), context.warnings.toString());
        }
    }
}
