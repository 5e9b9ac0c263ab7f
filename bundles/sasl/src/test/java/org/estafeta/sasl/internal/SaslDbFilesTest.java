package org.estafeta.sasl.internal;

import static org.estafeta.sasl.internal.Fixture.AUTH_FAILED;
import static org.estafeta.sasl.internal.Fixture.CLIENT;
import static org.estafeta.sasl.internal.Fixture.addUser;
import static org.estafeta.sasl.internal.Fixture.reply;
import static org.estafeta.sasl.internal.Fixture.respond;
import static org.estafeta.sasl.internal.Fixture.saslpasswd;
import static org.estafeta.sasl.internal.Fixture.success;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaslDbFilesTest {
    @TempDir
    Path dir;
    Path db;
    TestContext context;
    PlainMechanism plain;

    @BeforeEach
    void setUp() {
        db = dir.resolve("sasldb");
        addUser(db, "alice", "first");
        context = new TestContext(SaslDbFiles.PATH_PARAMETER, db.toString());
        plain = new PlainMechanism(new SaslDbFiles());
    }

    private String login(String password) throws IOException {
        var step = respond(plain.start(CLIENT, context), "\0alice\0" + password);
        return step instanceof org.estafeta.api.sasl.SaslStep.Success ? success(step) : reply(step);
    }

    @Test
    void rereadsTheFileWhenSaslpasswdChangesIt() throws Exception {
        assertEquals("alice", login("first"));
        // same length password: the file keeps its size, the rename gives it a new inode
        assertEquals("0", saslpasswd("secnd\n", "-f", db.toString(), "-p", "alice")[0]);
        assertEquals(AUTH_FAILED, login("first"));
        assertEquals("alice", login("secnd"));
        assertEquals("0", saslpasswd("", "-f", db.toString(), "-d", "alice")[0]);
        assertEquals(AUTH_FAILED, login("secnd"));
    }

    @Test
    void rereadsAFileEditedInPlace() throws Exception {
        assertEquals("alice", login("first"));
        Path other = dir.resolve("other");
        addUser(other, "alice", "newer");
        // rewrite in place (same inode), then make sure the mtime differs even on a coarse clock
        Files.writeString(db, Files.readString(other));
        Files.setLastModifiedTime(db, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(db).toMillis() + 2000));
        assertEquals("alice", login("newer"));
    }

    @Test
    void malformedFileIsATemporaryFailureNamingTheLine() throws Exception {
        Files.writeString(db, Files.readString(db) + "bob:SCRAM-SHA-256:4096:AAAA:AAAA:AAAA\n");
        IOException e = assertThrows(IOException.class, () -> login("first"));
        assertTrue(e.getMessage().startsWith(db + ", line 4: SCRAM-SHA-256: StoredKey and ServerKey must have 32 bytes"),
                e.getMessage());
        // and again on the next exchange: never taken for an empty or partial file
        assertThrows(IOException.class, () -> login("first"));
        for (String bad : List.of("alice", "alice:CRAM-MD5:AAAA:AAAA", "alice:SCRAM-SHA-256:4096:AA=A:x:y",
                "alice:SCRAM-SHA-256:many:AAAA:AAAA:AAAA", "alice:MD5:x", "al ice:SCRAM-SHA-256",
                "alice:SCRAM-SHA-256:100:AAAA:AAAA:AAAA")) {
            Files.writeString(db, "# comment\n\n" + bad + "\n");
            e = assertThrows(IOException.class, () -> login("first"), bad);
            assertTrue(e.getMessage().startsWith(db + ", line 3: "), e.getMessage());
        }
        String good = "alice:SCRAM-SHA-256:4096:AAAA:" + "A".repeat(43) + "=:" + "A".repeat(43) + "=";
        Files.writeString(db, good + "\n" + good + "\n");
        e = assertThrows(IOException.class, () -> login("first"));
        assertEquals(db + ", line 2: duplicate entry for alice", e.getMessage());
    }

    @Test
    void missingOrUnsetFileIsATemporaryFailure() throws Exception {
        Files.delete(db);
        IOException e = assertThrows(IOException.class, () -> login("first"));
        assertEquals("estafeta_sasldb_path: " + db + ": No such file or directory", e.getMessage());
        context.parameters.remove(SaslDbFiles.PATH_PARAMETER);
        e = assertThrows(IOException.class, () -> login("first"));
        assertEquals("estafeta_sasldb_path is not set", e.getMessage());
    }

    @Test
    void aFileReadableByOthersIsWarnedAboutOnce() throws Exception {
        assertEquals("alice", login("first"));
        assertEquals(List.of(), context.lines(System.Logger.Level.WARNING));
        Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals("alice", login("first"));
        assertEquals(AUTH_FAILED, login("other"));
        List<String> w = context.lines(System.Logger.Level.WARNING);
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("estafeta_sasldb_path: " + db + ": file is readable by other users"), w.get(0));
    }
}
