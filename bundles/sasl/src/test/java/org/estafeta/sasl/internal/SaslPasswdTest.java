package org.estafeta.sasl.internal;

import static org.estafeta.sasl.internal.Fixture.saslpasswd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code estafeta saslpasswd} ({@link org.estafeta.sasl.SaslPasswd}) on a real file. */
class SaslPasswdTest {
    @TempDir
    Path dir;
    Path db;
    String f;

    @BeforeEach
    void setUp() {
        db = dir.resolve("sasldb");
        f = db.toString();
    }

    @Test
    void createListDelete() throws Exception {
        String[] r = saslpasswd("Pa55word!\n", "-f", f, "-c", "-p", "-u", "example.com", "alice");
        assertEquals("0", r[0], r[2]);
        assertEquals("", r[1] + r[2]);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(db)));
        assertEquals("0", saslpasswd("other pass\n", "-f", f, "-cp", "-m", "CRAM-MD5", "bob")[0]);

        r = saslpasswd("", "-f", f, "-l");
        assertEquals("0", r[0], r[2]);
        assertEquals("alice@example.com: SCRAM-SHA-256\nbob: SCRAM-SHA-256 CRAM-MD5\n", r[1]);

        SaslDb parsed = SaslDb.read(db);
        assertTrue(parsed.get("alice@example.com").orElseThrow().scram().matches(
                "Pa55word!".getBytes(StandardCharsets.UTF_8)));
        assertEquals(4096, parsed.get("bob").orElseThrow().scram().iterations());

        r = saslpasswd("", "-f", f, "-d", "alice", "-u", "example.com");
        assertEquals("0", r[0], r[2]);
        assertEquals("bob: SCRAM-SHA-256 CRAM-MD5\n", saslpasswd("", "-f", f, "-l")[1]);

        r = saslpasswd("", "-f", f, "-d", "alice@example.com");
        assertEquals("1", r[0]);
        assertEquals("saslpasswd: fatal: alice@example.com: user not found in " + f + "\n", r[2]);
    }

    @Test
    void theFileNeverHoldsThePasswordNorDoesTheOutput() throws Exception {
        String password = "tanstaaftanstaaf";
        String[] r = saslpasswd(password + "\n", "-f", f, "-c", "-p", "-m", "CRAM-MD5,SCRAM-SHA-256", "tim");
        assertEquals("0", r[0], r[2]);
        String content = Files.readString(db);
        for (String form : new String[] {password, Base64.getEncoder().encodeToString(password.getBytes()),
            java.util.HexFormat.of().formatHex(password.getBytes())}) {
            assertFalse(content.contains(form), content);
        }
        assertFalse((r[1] + r[2] + String.join("", saslpasswd("", "-f", f, "-l"))).contains(password));
        assertTrue(content.lines().anyMatch(l -> l.startsWith("tim:SCRAM-SHA-256:4096:") && l.contains(":CRAM-MD5:")),
                content);
    }

    @Test
    void changingThePasswordNeedsAnExistingUserUnlessCreating() throws Exception {
        String[] r = saslpasswd("x\n", "-f", f, "-p", "alice");
        assertEquals("1", r[0]);
        assertEquals("saslpasswd: fatal: " + f + ": No such file or directory\n", r[2]);
        assertEquals("0", saslpasswd("first\n", "-f", f, "-c", "-p", "alice")[0]);
        r = saslpasswd("x\n", "-f", f, "-p", "bob");
        assertEquals("saslpasswd: fatal: bob: user not found in " + f + " (use -c to create it)\n", r[2]);
        String before = Files.readString(db);
        assertEquals("0", saslpasswd("second\n", "-f", f, "-p", "alice")[0]);
        assertNotEquals(before, Files.readString(db));
        assertTrue(SaslDb.read(db).get("alice").orElseThrow().scram().matches("second".getBytes()));
    }

    @Test
    void cramMd5SecretIsKeptUntilTheOperatorDropsIt() throws Exception {
        assertEquals("0", saslpasswd("one\n", "-f", f, "-c", "-p", "-m", "CRAM-MD5", "tim")[0]);
        CramMd5Secret first = SaslDb.read(db).get("tim").orElseThrow().cramMd5();
        // a new password without -m keeps CRAM-MD5, with the new password's states
        assertEquals("0", saslpasswd("two\n", "-f", f, "-p", "tim")[0]);
        CramMd5Secret second = SaslDb.read(db).get("tim").orElseThrow().cramMd5();
        assertEquals(CramMd5Secret.derive("two"), second);
        assertNotEquals(first, second);
        // -m SCRAM-SHA-256 alone drops it
        assertEquals("0", saslpasswd("two\n", "-f", f, "-p", "-m", "SCRAM-SHA-256", "tim")[0]);
        assertEquals(null, SaslDb.read(db).get("tim").orElseThrow().cramMd5());
    }

    @Test
    void existingModeAndIterationsAreHonoured() throws Exception {
        assertEquals("0", saslpasswd("one\n", "-f", f, "-c", "-p", "tim")[0]);
        Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-r-----"));
        assertEquals("0", saslpasswd("one\n", "-f", f, "-c", "-p", "-i", "5000", "tim")[0]);
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(db)));
        assertEquals(5000, SaslDb.read(db).get("tim").orElseThrow().scram().iterations());
        // no temporary files left behind
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void lastFileOptionWins() throws Exception {
        Path other = dir.resolve("other");
        assertEquals("0", saslpasswd("one\n", "-f", f, "-c", "-p", "-f", other.toString(), "tim")[0]);
        assertTrue(Files.exists(other));
        assertFalse(Files.exists(db));
    }

    @Test
    void usageErrors() throws Exception {
        assertEquals("saslpasswd: fatal: no password file given (-f FILE)\n", saslpasswd("", "-l")[2]);
        assertEquals("saslpasswd: fatal: specify only one of -c, -d or -l\n", saslpasswd("", "-f", f, "-c", "-d", "x")[2]);
        assertTrue(saslpasswd("", "-f", f, "-x", "u")[2].startsWith("saslpasswd: fatal: invalid option -x; usage: "));
        assertTrue(saslpasswd("", "-f", f, "-c", "-p")[2].startsWith("saslpasswd: fatal: usage: "));
        assertEquals("saslpasswd: fatal: -m: unknown mechanism \"DIGEST-MD5\"; use SCRAM-SHA-256 and/or CRAM-MD5\n",
                saslpasswd("", "-f", f, "-m", "DIGEST-MD5", "u")[2]);
        assertTrue(saslpasswd("", "-f", f, "-i", "100", "u")[2].startsWith("saslpasswd: fatal: -i: "));
        assertEquals("saslpasswd: fatal: a user name cannot contain a colon, white space or control characters: "
                + "\"a:b\"\n", saslpasswd("x\n", "-f", f, "-c", "-p", "a:b")[2]);
        assertEquals("saslpasswd: fatal: empty password\n", saslpasswd("\n", "-f", f, "-c", "-p", "u")[2]);
        assertEquals("saslpasswd: fatal: no password on standard input\n", saslpasswd("", "-f", f, "-c", "-p", "u")[2]);
        // no terminal in a test: without -p it refuses rather than reading a password from a pipe
        assertEquals("saslpasswd: fatal: no terminal to ask for the password; use -p to read it from standard input\n",
                saslpasswd("x\n", "-f", f, "-c", "u")[2]);
        assertFalse(Files.exists(db));
    }

    @Test
    void aMalformedFileIsLeftAlone() throws Exception {
        Files.writeString(db, "garbage line\n");
        String[] r = saslpasswd("x\n", "-f", f, "-c", "-p", "u");
        assertEquals("1", r[0]);
        assertEquals("saslpasswd: fatal: " + f + ", line 1: a user name cannot contain a colon, white space or "
                + "control characters (file left unchanged)\n", r[2]);
        assertEquals("garbage line\n", Files.readString(db));
    }
}
