package org.estafeta.table.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** unix:passwd.byname and unix:group.byname over files of our own: formats, first entry wins, changes, failures. */
class UnixTableTest {
    @TempDir
    Path dir;

    private LookupTable open(String name) throws Exception {
        return new UnixTableFactory(dir.resolve("passwd"), dir.resolve("group"))
                .open(TableSpec.parse("unix:" + name), new FakePluginContext());
    }

    @Test
    void passwdAnswersTheWholeEntry() throws Exception {
        Files.writeString(dir.resolve("passwd"), """
                root:x:0:0:root:/root:/bin/bash
                # a comment
                +nisuser::::::
                alice:x:1000:0100:Alice A,,,:/home/alice:/bin/sh
                alice:x:2000:2000:second:/tmp:/bin/false
                broken:x:1:1:too few
                badid:x:one:1:g:/:/bin/sh
                """);
        LookupTable t = open("passwd.byname");
        assertEquals(LookupResult.found("root:x:0:0:root:/root:/bin/bash"), t.lookup("root"));
        assertEquals(LookupResult.found("alice:x:1000:100:Alice A,,,:/home/alice:/bin/sh"), t.lookup("alice"));
        assertEquals(LookupResult.notFound(), t.lookup("broken"));
        assertEquals(LookupResult.notFound(), t.lookup("badid"));
        assertEquals(LookupResult.notFound(), t.lookup("+nisuser"));
        assertEquals(LookupResult.notFound(), t.lookup("root@example.com"));
        assertEquals(LookupResult.notFound(), t.lookup(""));
    }

    @Test
    void groupAnswersNameGidAndMembers() throws Exception {
        Files.writeString(dir.resolve("group"), "root:x:0:\nmail:x:8:alice,,bob\n");
        LookupTable t = open("group.byname");
        assertEquals(LookupResult.found("root:x:0:"), t.lookup("root"));
        assertEquals(LookupResult.found("mail:x:8:alice,bob"), t.lookup("mail"));
        assertEquals(LookupResult.notFound(), t.lookup("alice"));
    }

    @Test
    void aChangedFileIsReadAgain() throws Exception {
        Path p = dir.resolve("passwd");
        Files.writeString(p, "a:x:1:1::/:/bin/sh\n");
        LookupTable t = open("passwd.byname");
        assertEquals(LookupResult.notFound(), t.lookup("bob"));
        Files.writeString(p, "a:x:1:1::/:/bin/sh\nbob:x:2:2::/:/bin/sh\n");
        Files.setLastModifiedTime(p, FileTime.from(Instant.now().plusSeconds(5)));
        assertEquals(LookupResult.found("bob:x:2:2::/:/bin/sh"), t.lookup("bob"));
    }

    @Test
    void anUnreadableDatabaseIsATemporaryFailure() throws Exception {
        LookupResult r = open("passwd.byname").lookup("root");
        LookupResult.TemporaryFailure f = assertInstanceOf(LookupResult.TemporaryFailure.class, r);
        assertTrue(f.reason().contains("cannot access UNIX password database"), f.reason());
    }

    @Test
    void otherNamesAreUnknownTables() {
        TableOpenException e = assertThrows(TableOpenException.class, () -> open("passwd.byuid"));
        assertEquals("unknown table: unix:passwd.byuid", e.getMessage());
    }
}
