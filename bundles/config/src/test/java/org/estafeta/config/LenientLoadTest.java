package org.estafeta.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The best-effort reading that lets `estafeta status` and `reload` find a running gateway while main.cf is broken. */
class LenientLoadTest {
    @TempDir
    Path dir;

    @Test
    void skipsBadLinesAndLoopsButKeepsTheRest() throws Exception {
        Files.writeString(dir.resolve("main.cf"), String.join("\n",
                "queue_directory = /srv/mail/$spool_name",
                "spool_name = spool",
                "this line is broken",
                "a = $b",
                "b = $a",
                "smtpd_banner = $a",
                "mydomain = example.com",
                ""));
        assertThrows(ConfigException.class, () -> ConfigLoader.load(dir, dir));
        ConfigSnapshot s = ConfigLoader.loadLeniently(dir, dir);
        assertEquals("/srv/mail/spool", s.value("queue_directory"));
        assertEquals("example.com", s.value("mydomain"));
    }

    @Test
    void aLoopThroughQueueDirectoryFallsBackToTheDefault() throws Exception {
        Files.writeString(dir.resolve("main.cf"), "queue_directory = $x\nx = $queue_directory\n");
        assertEquals(dir.resolve("spool").toString(), ConfigLoader.loadLeniently(dir, dir).value("queue_directory"));
    }

    @Test
    void anUnreadableFileIsStillAnError() {
        assertThrows(ConfigException.class, () -> ConfigLoader.loadLeniently(dir.resolve("nope"), dir));
    }
}
