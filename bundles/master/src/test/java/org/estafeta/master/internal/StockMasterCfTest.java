package org.estafeta.master.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.estafeta.config.ConfigLoader;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.master.internal.Supervisor.EntryStatus;
import org.estafeta.master.internal.Supervisor.State;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/** Debian's stock master.cf, read by the real config parser, loads in the master without an error or warning. */
class StockMasterCfTest {
    @TempDir
    Path dir;

    @Test
    void debianMasterCfThroughTheRealParser() throws Exception {
        Path stock = Path.of("/usr/share/postfix/master.cf.dist");
        if (!Files.exists(stock)) {
            stock = Path.of("/etc/postfix/master.cf");
        }
        if (!Files.exists(stock)) {
            String why = "Debian's postfix package is not installed (scripts/install-peers.sh installs it)";
            if ("1".equals(System.getenv("ESTAFETA_REQUIRE_PEERS"))) {
                org.junit.jupiter.api.Assertions.fail(why);
            }
            Assumptions.abort(why);
        }
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.copy(stock, conf.resolve("master.cf"));
        Files.writeString(conf.resolve("main.cf"), "");
        ConfigSnapshot snapshot = ConfigLoader.load(conf, dir.resolve("var"));
        assertTrue(snapshot.services().size() >= 20, snapshot.services().toString());

        RecordingLogger log = new RecordingLogger("master");
        Supervisor supervisor = new Supervisor(log, 5_000);
        try {
            FakeDaemon smtpd = new FakeDaemon("smtpd");
            supervisor.daemonAdded("smtpd", smtpd, 1, 0);
            FakeDaemon qmgr = new FakeDaemon("qmgr");
            supervisor.daemonAdded("qmgr", qmgr, 2, 0);
            supervisor.daemonAdded("pickup", new FakeDaemon("pickup"), 3, 0);
            supervisor.configure(snapshot);
            supervisor.settle();
            List<EntryStatus> status = supervisor.status();
            assertEquals(snapshot.services().size(), status.size());
            for (EntryStatus s : status) {
                assertTrue(s.state() == State.RUNNING || s.state() == State.ACCEPTED, s.line());
                assertFalse(s.starting(), s.line());
            }
            assertEquals(List.of(), log.lines(Level.ERROR));
            assertEquals(List.of(), log.lines(Level.WARN));
            assertEquals(snapshot.services().size(), log.lines(Level.INFO).size(), log.lines().toString());
            assertTrue(smtpd.takeEvents().contains("start smtp/inet"));
            assertTrue(qmgr.takeEvents().contains("start qmgr/unix"), "Debian's qmgr entry runs Estafeta's qmgr");
            assertTrue(log.lines(Level.INFO).stream().anyMatch(
                    l -> l.startsWith("service anvil/unix: no counterpart in Estafeta yet (command anvil); ignored")),
                    log.lines().toString());
            // Debian runs smtpd chrooted; the operator hears that the column has no effect here
            assertTrue(log.lines(Level.INFO).stream().anyMatch(l -> l.startsWith("service smtp/inet: ")
                    && l.endsWith("(chroot=y ignored: every service runs inside the gateway's one process)")),
                    log.lines(Level.INFO).toString());
        } finally {
            supervisor.shutdown();
        }
    }
}
