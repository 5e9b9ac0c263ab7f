package org.estafeta.master.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.estafeta.config.MasterEntry;
import org.estafeta.master.internal.Supervisor.EntryStatus;
import org.estafeta.master.internal.Supervisor.State;
import org.estafeta.testing.FakeSnapshot;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class SupervisorTest {
    private final RecordingLogger log = new RecordingLogger("master");
    private final Supervisor supervisor = new Supervisor(log, 5_000);

    private static final MasterEntry SMTP = FakeSnapshot.entry("127.0.0.1:2525", "inet", "smtpd", Map.of());
    private static final MasterEntry SUBMISSION = FakeSnapshot.entry("127.0.0.1:2587", "inet", "smtpd",
            Map.of("smtpd_tls_security_level", "encrypt"));
    private static final MasterEntry QMGR = FakeSnapshot.entry("qmgr", "unix", "nqmgr", Map.of());

    @AfterEach
    void stop() {
        supervisor.shutdown();
    }

    private static FakeSnapshot snapshot(long generation, Map<String, String> params, MasterEntry... entries) {
        return new FakeSnapshot(params, List.of(entries), generation);
    }

    private Map<String, EntryStatus> status() {
        supervisor.settle();
        return supervisor.status().stream().collect(Collectors.toMap(s -> s.entry().id(), Function.identity()));
    }

    @Test
    void startsOneInstancePerEntryWithTheEntrysOwnSnapshot() {
        var smtpd = new FakeDaemon("smtpd");
        supervisor.daemonAdded("smtpd", smtpd, 1, 0);
        supervisor.configure(snapshot(1, Map.of("smtpd_tls_security_level", "may"), SMTP, SUBMISSION));
        var st = status();
        assertEquals(List.of("start 127.0.0.1:2525/inet", "start 127.0.0.1:2587/inet"), smtpd.takeEvents());
        assertEquals(State.RUNNING, st.get("127.0.0.1:2525/inet").state());
        assertEquals("127.0.0.1:2525/inet: smtpd listening on 127.0.0.1:2525", st.get("127.0.0.1:2525/inet").line());
        assertEquals(java.util.Optional.of("may"), smtpd.running.get(0).config.get("smtpd_tls_security_level"));
        assertEquals(java.util.Optional.of("encrypt"), smtpd.running.get(1).config.get("smtpd_tls_security_level"));
        assertEquals(1, supervisor.generation());
    }

    @Test
    void daemonArrivalDepartureAndReturn() {
        supervisor.configure(snapshot(1, Map.of(), SMTP));
        var st = status().get("127.0.0.1:2525/inet");
        assertEquals(State.WAITING, st.state());
        assertTrue(st.starting(), "an inet entry without its daemon counts as starting");
        assertEquals("waiting for a bundle that registers estafeta.daemon=smtpd", st.text());

        var smtpd = new FakeDaemon("smtpd");
        supervisor.daemonAdded("smtpd", smtpd, 7, 0);
        assertEquals(State.RUNNING, status().get("127.0.0.1:2525/inet").state());
        assertEquals(List.of("start 127.0.0.1:2525/inet"), smtpd.takeEvents());

        supervisor.daemonRemoved(smtpd); // synchronous: stopped when it returns
        assertEquals(List.of("stop 127.0.0.1:2525/inet"), smtpd.takeEvents());
        assertEquals(State.WAITING, status().get("127.0.0.1:2525/inet").state());

        supervisor.daemonAdded("smtpd", smtpd, 8, 0);
        assertEquals(State.RUNNING, status().get("127.0.0.1:2525/inet").state());
        assertEquals(List.of("start 127.0.0.1:2525/inet"), smtpd.takeEvents());
    }

    @Test
    void departureFallsBackToAnotherRegistrationAndRankingDecides() {
        var low = new FakeDaemon("low");
        var high = new FakeDaemon("high");
        supervisor.configure(snapshot(1, Map.of(), SMTP));
        supervisor.daemonAdded("smtpd", low, 1, 0);
        status();
        supervisor.daemonAdded("smtpd", high, 2, 10);
        status();
        assertEquals(List.of("start 127.0.0.1:2525/inet", "stop 127.0.0.1:2525/inet"), low.takeEvents());
        assertEquals(List.of("start 127.0.0.1:2525/inet"), high.takeEvents());
        supervisor.daemonRemoved(high);
        assertEquals(List.of("start 127.0.0.1:2525/inet"), low.takeEvents());
        assertEquals(State.RUNNING, status().get("127.0.0.1:2525/inet").state());
    }

    @Test
    void reloadStopsRemovedRestartsChangedStartsNewAndLeavesTheRestAlone() {
        var smtpd = new FakeDaemon("smtpd");
        supervisor.daemonAdded("smtpd", smtpd, 1, 0);
        supervisor.configure(snapshot(1, Map.of(), SMTP, SUBMISSION));
        status();
        smtpd.takeEvents();

        // same entries, moved to other lines: nothing happens
        MasterEntry smtpMoved = new MasterEntry(SMTP.service(), SMTP.type(), "n", "-", "n", "-", "-", "smtpd",
                Map.of(), List.of(), "master.cf", 40);
        supervisor.configure(snapshot(2, Map.of(), smtpMoved, SUBMISSION));
        status();
        assertEquals(List.of(), smtpd.takeEvents());

        // submission's override changes, smtp is removed, a new entry appears
        MasterEntry submission2 = FakeSnapshot.entry("127.0.0.1:2587", "inet", "smtpd",
                Map.of("smtpd_tls_security_level", "may"));
        MasterEntry smtps = FakeSnapshot.entry("127.0.0.1:2465", "inet", "smtpd", Map.of());
        supervisor.configure(snapshot(3, Map.of(), submission2, smtps));
        var st = status();
        assertEquals(List.of("stop 127.0.0.1:2525/inet", "stop 127.0.0.1:2587/inet", "start 127.0.0.1:2587/inet",
                "start 127.0.0.1:2465/inet"), smtpd.takeEvents());
        assertEquals(List.of("127.0.0.1:2587/inet", "127.0.0.1:2465/inet"),
                supervisor.status().stream().map(s -> s.entry().id()).toList());
        assertEquals(2, smtpd.running.size());
        assertFalse(st.containsKey("127.0.0.1:2525/inet"));
        assertEquals(3, supervisor.generation());
    }

    @Test
    void mainCfChangeRestartsOnlyTheEntriesItAffects() {
        var smtpd = new FakeDaemon("smtpd");
        supervisor.daemonAdded("smtpd", smtpd, 1, 0);
        supervisor.configure(snapshot(1, Map.of("smtpd_banner", "one"), SMTP, SUBMISSION));
        status();
        smtpd.takeEvents();
        // submission overrides smtpd_tls_security_level itself, so a change of the main.cf value affects only smtp
        supervisor.configure(snapshot(2, Map.of("smtpd_banner", "one", "smtpd_tls_security_level", "none"),
                SMTP, SUBMISSION));
        status();
        assertEquals(List.of("stop 127.0.0.1:2525/inet", "start 127.0.0.1:2525/inet"), smtpd.takeEvents());
        supervisor.configure(snapshot(3, Map.of("smtpd_banner", "two", "smtpd_tls_security_level", "none"),
                SMTP, SUBMISSION));
        status();
        assertEquals(4, smtpd.takeEvents().size(), "both restarted");
    }

    @Test
    void failedStartIsReportedAndRetriedOnReload() {
        var smtpd = new FakeDaemon("smtpd");
        smtpd.refuse = "127.0.0.1:2525";
        supervisor.daemonAdded("smtpd", smtpd, 1, 0);
        supervisor.configure(snapshot(1, Map.of(), SMTP));
        var st = status().get("127.0.0.1:2525/inet");
        assertEquals(State.FAILED, st.state());
        assertEquals("127.0.0.1:2525/inet: failed: 127.0.0.1:2525: Address already in use", st.line());
        assertTrue(log.lines(Level.WARN).stream().anyMatch(l -> l.contains("Address already in use")), log.lines().toString());
        smtpd.refuse = "";
        supervisor.configure(snapshot(2, Map.of(), SMTP));
        assertEquals(State.RUNNING, status().get("127.0.0.1:2525/inet").state());
    }

    @Test
    void overrideTheConfigCannotApplyFailsThatEntryOnly() {
        var broken = new FakeSnapshot(Map.of(), List.of(SMTP, SUBMISSION), 1) {
            @Override
            public org.estafeta.config.ConfigSnapshot forService(MasterEntry entry) {
                if (entry.equals(SUBMISSION)) {
                    throw new IllegalArgumentException("master.cf, line 1: bad value for smtpd_tls_security_level");
                }
                return super.forService(entry);
            }
        };
        var smtpd = new FakeDaemon("smtpd");
        supervisor.daemonAdded("smtpd", smtpd, 1, 0);
        supervisor.configure(broken);
        var st = status();
        assertEquals(State.RUNNING, st.get("127.0.0.1:2525/inet").state());
        assertEquals(State.FAILED, st.get("127.0.0.1:2587/inet").state());
    }

    @Test
    void postfixProgramsAreAcceptedWithOneLineEach() {
        supervisor.configure(snapshot(1, Map.of(), QMGR,
                FakeSnapshot.entry("relay", "unix", "smtp", Map.of()),
                FakeSnapshot.entry("postlog", "unix-dgram", "postlogd", Map.of()),
                FakeSnapshot.entry("anvil", "unix", "anvil", Map.of())));
        var st = status();
        assertEquals("qmgr/unix: waiting for a bundle that registers estafeta.daemon=qmgr", st.get("qmgr/unix").line(),
                "Postfix's nqmgr is Estafeta's qmgr");
        assertEquals(State.WAITING, st.get("qmgr/unix").state());
        assertEquals("anvil/unix: no counterpart in Estafeta yet (command anvil); ignored", st.get("anvil/unix").line());
        assertEquals(State.ACCEPTED, st.get("relay/unix").state());
        assertEquals("relay/unix: transport smtp: deliveries use the service estafeta.transport=smtp",
                st.get("relay/unix").line());
        assertFalse(st.get("qmgr/unix").starting(), "a unix entry does not hold up 'running'");
        assertEquals(List.of("service qmgr/unix: waiting for a bundle that registers estafeta.daemon=qmgr",
                "service relay/unix: transport smtp: deliveries use the service estafeta.transport=smtp",
                "service postlog/unix-dgram: not needed in Estafeta (command postlogd): logging is done in-process"
                        + " by the maillog writer",
                "service anvil/unix: no counterpart in Estafeta yet (command anvil); ignored"),
                log.lines(Level.INFO));
        // a reload that does not change them says nothing again
        log.clear();
        supervisor.configure(snapshot(2, Map.of(), QMGR, FakeSnapshot.entry("relay", "unix", "smtp", Map.of()),
                FakeSnapshot.entry("postlog", "unix-dgram", "postlogd", Map.of()),
                FakeSnapshot.entry("anvil", "unix", "anvil", Map.of())));
        status();
        assertEquals(List.of(), log.lines());
        // and a qmgr daemon, when one appears, serves the nqmgr entry
        var qmgr = new FakeDaemon("qmgr");
        supervisor.daemonAdded("qmgr", qmgr, 3, 0);
        assertEquals(State.RUNNING, status().get("qmgr/unix").state());
    }

    @Test
    void shutdownStopsEverythingAndLaterCallsAreHarmless() {
        var smtpd = new FakeDaemon("smtpd");
        supervisor.daemonAdded("smtpd", smtpd, 1, 0);
        supervisor.configure(snapshot(1, Map.of(), SMTP, SUBMISSION));
        status();
        smtpd.takeEvents();
        supervisor.shutdown();
        assertEquals(List.of("stop 127.0.0.1:2587/inet", "stop 127.0.0.1:2525/inet"), smtpd.takeEvents());
        supervisor.daemonRemoved(smtpd);
        supervisor.configure(snapshot(2, Map.of(), SMTP));
        assertEquals(List.of(), smtpd.takeEvents());
    }
}
