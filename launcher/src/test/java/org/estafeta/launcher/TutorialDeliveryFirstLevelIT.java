package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.estafeta.launcher.TutorialDelivery.awaitStatus;
import static org.estafeta.launcher.TutorialDelivery.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.estafeta.launcher.TutorialDelivery.Office;
import org.estafeta.launcher.TutorialDelivery.PostfixOffice;
import org.estafeta.launcher.TutorialDelivery.Sink;
import org.estafeta.testing.Dnsmasq;
import org.estafeta.testing.PrivatePostfix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tutorial's first-level relay, {@code relay.univ.es} (section 2.1 of {@code spec/postfix-2.0-tutorial-es.md}),
 * delivering for real: its main.cf and its transport table verbatim (a real {@code hash:} table built with the
 * distribution's {@code estafeta postmap}), the internal post offices on 127.0.0.11-13 port 25: {@code smtp.univ.es}
 * a real Postfix storing Maildirs with its virtual(8) agent, {@code smtp.depart1.univ.es} and
 * {@code smtp.depart2.univ.es} Postfix's smtp-sink; their names are resolved by a dnsmasq the gateway asks
 * ({@code estafeta_dns_servers}). Added to the tutorial's main.cf: that parameter, the alias parameters of section
 * 1.2 with the test's path and {@code mail_spool_directory} (the relay's own users root and postmaster, the
 * table's {@code local:} entries, get mbox files under the test directory). Mail for the rest of the world goes by MX, also through dnsmasq: a single MX, and a
 * domain whose preferred MX refuses connections so that the second one gets the mail. Section 3's relay side
 * ({@code fund-univ.es} relayed to {@code smtp.univ.es}, later to {@code smtp.fund-univ.es}) runs with its own
 * main.cf and transport table.
 */
class TutorialDeliveryFirstLevelIT {
    static final int PORT = 27170;
    static final String INSIDE = "127.0.0.1";
    static final String OUTSIDE = "127.0.0.30";

    /**
     * Section 2.1 verbatim (the same text the differential RelayTutorial*IT pair uses; TRANSPORT: the table's path),
     * then the aliases of section 1.2 and the test's environment.
     */
    static final String MAIN_CF_2_1 = RelayTutorialScenarios.MAIN_CF_TEMPLATE + String.join("\n",
            "# TRATAMIENTO DE ALIAS (section 1.2, the test's path)",
            "alias_database = hash:ALIASES",
            "alias_maps = hash:ALIASES",
            "",
            "# the test's environment: the DNS server that knows the tutorial's hosts; system mailboxes",
            "estafeta_dns_servers = DNS",
            "mail_spool_directory = SPOOL",
            "");

    /** Section 2.1's transport table, verbatim. */
    static final String TRANSPORT_2_1 = RelayTutorialScenarios.TRANSPORT;

    /** Section 3, the relay's main.cf change (the rest as in 2.1). */
    static final String MAIN_CF_3 = MAIN_CF_2_1.replace("relay_domains = $mydomain\n",
            "relay_domains = $mydomain fund-univ.es\n");

    /** Section 3, the relay's transport table while smtp.univ.es hosts fund-univ.es, verbatim. */
    static final String TRANSPORT_3 = String.join("\n",
            "# TRAFICO LOCAL ...",
            "relay.univ.es      local:",
            "localhost.univ.es local:",
            "",
            "# TRAFICO INTERNO ...",
            "univ.es           smtp:[smtp.univ.es]",
            "fund-univ.es    smtp:[smtp.univ.es]",
            "depart1.univ.es   smtp:[smtp.depart1.univ.es]",
            ".depart1.univ.es  smtp:[smtp.depart1.univ.es]",
            "depart2.univ.es   smtp:[smtp.depart2.univ.es]",
            ".depart2.univ.es  smtp:[smtp.depart2.univ.es]",
            "");

    /** Section 3, once smtp.fund-univ.es runs, verbatim. */
    static final String TRANSPORT_3_LATER = String.join("\n",
            "# TRAFICO LOCAL ...",
            "relay.univ.es          local:",
            "localhost.univ.es     local:",
            "",
            "# TRAFICO INTERNO ...",
            "univ.es                smtp:[smtp.univ.es]",
            "fund-univ.es           smtp:[smtp.fund-univ.es]",
            "depart1.univ.es        smtp:[smtp.depart1.univ.es]",
            ".depart1.univ.es       smtp:[smtp.depart1.univ.es]",
            "depart2.univ.es        smtp:[smtp.depart2.univ.es]",
            ".depart2.univ.es       smtp:[smtp.depart2.univ.es]",
            "");

    @TempDir
    static Path tmp;
    static Dnsmasq dns;
    static PostfixOffice univ;
    static Sink depart1;
    static Sink depart2;
    static Sink foreignMx;
    static Sink backupMx2;
    static Sink fund;
    static final List<Office> sinks = new ArrayList<>();

    @BeforeAll
    static void peers() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        assumeTrue(PrivatePostfix.availableOrFail());
        Dnsmasq.require();
        dns = Dnsmasq.builder()
                .local("univ.es").local("fund-univ.es").local("test")
                .hostRecord("relay.univ.es", "127.0.0.1")
                .hostRecord("smtp.univ.es", "127.0.0.11")
                .hostRecord("smtp.depart1.univ.es", "127.0.0.12")
                .hostRecord("smtp.depart2.univ.es", "127.0.0.13")
                .hostRecord("smtp.fund-univ.es", "127.0.0.18")
                // the tutorial's "MX of fund-univ.es pointing at relay.univ.es": the relay must not use it
                .mxHost("fund-univ.es", "relay.univ.es", 10)
                .mxHost("foreign.test", "mx.foreign.test", 10)
                .hostRecord("mx.foreign.test", "127.0.0.14")
                .mxHost("backup.test", "mx1.backup.test", 10)
                .mxHost("backup.test", "mx2.backup.test", 20)
                .hostRecord("mx1.backup.test", "127.0.0.15")
                .hostRecord("mx2.backup.test", "127.0.0.16")
                .start();
        try {
            univ = add(PostfixOffice.start("tutorial-smtp-univ-es", "smtp.univ.es", "127.0.0.11", "univ.es fund-univ.es",
                    List.of("ana@univ.es", "gerente@fund-univ.es")));
            depart1 = add(Sink.start(tmp.resolve("sinks"), "smtp.depart1.univ.es", "127.0.0.12"));
            depart2 = add(Sink.start(tmp.resolve("sinks"), "smtp.depart2.univ.es", "127.0.0.13"));
            foreignMx = add(Sink.start(tmp.resolve("sinks"), "mx.foreign.test", "127.0.0.14"));
            backupMx2 = add(Sink.start(tmp.resolve("sinks"), "mx2.backup.test", "127.0.0.16"));
            fund = add(Sink.start(tmp.resolve("sinks"), "smtp.fund-univ.es", "127.0.0.18"));
        } catch (Exception | AssertionError e) {
            stopPeers();
            throw e;
        }
    }

    private static <T extends Office> T add(T s) {
        sinks.add(s);
        return s;
    }

    @AfterAll
    static void stopPeers() {
        TutorialDelivery.closeAll(sinks);
        sinks.clear();
        if (dns != null) {
            dns.close();
        }
    }

    /** Writes main.cf and the transport table, builds the table with {@code estafeta postmap}, starts the gateway. */
    private static Gateway start(Path dir, String mainCf, String transport) throws Exception {
        for (Office s : sinks) {
            s.clear();
        }
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path var = Files.createDirectories(dir.resolve("var"));
        Path table = conf.resolve("transport");
        Path spool = Files.createDirectories(dir.resolve("mail"));
        String main = mainCf.replace("TRANSPORT", table.toString()).replace("DNS", dns.server())
                .replace("ALIASES", conf.resolve("aliases").toString()).replace("SPOOL", spool.toString());
        Files.writeString(conf.resolve("main.cf"), main);
        Files.writeString(table, transport);
        TutorialDelivery.postmap(conf, var, table);
        // the users a first-level relay serves itself (section 2): root, and postmaster and abuse as aliases
        Files.writeString(conf.resolve("aliases"), "postmaster: root\nabuse: root\n");
        ItSupport.Result a = ItSupport.estafeta(conf, var, "postalias", conf.resolve("aliases").toString());
        assertEquals(0, a.exit(), "estafeta postalias: " + a.output());
        Gateway gw = EstafetaTarget.start(dir, main,
                "127.0.0.1:" + PORT + " inet n - n - - smtpd\n" + TutorialDelivery.DELIVERY_SERVICES);
        EstafetaTarget.awaitListener(PORT);
        return gw;
    }

    @Test
    void internalDomainsGoToTheirPostOfficesAndTheRestOfTheWorldByMx() throws Exception {
        Path dir = tmp.resolve("s21");
        Gateway gw = start(dir, MAIN_CF_2_1, TRANSPORT_2_1);
        try {
            Map<String, String> ids = new TreeMap<>();
            // from outside mynetworks: only univ.es and its subdomains are relayed
            ids.put("01", send(PORT, OUTSIDE, "sender@outside.example", "ana@univ.es", "01"));
            ids.put("02", send(PORT, OUTSIDE, "sender@outside.example", "luis@depart1.univ.es", "02"));
            ids.put("03", send(PORT, OUTSIDE, "sender@outside.example", "eva@lab.depart1.univ.es", "03"));
            ids.put("04", send(PORT, OUTSIDE, "sender@outside.example", "juan@depart2.univ.es", "04"));
            ids.put("05", send(PORT, OUTSIDE, "sender@outside.example", "rosa@aula.depart2.univ.es", "05"));
            // one message, recipients for three post offices
            ids.put("06", send(PORT, OUTSIDE, "sender@outside.example",
                    "ana@univ.es,luis@depart1.univ.es,juan@depart2.univ.es", "06"));
            // from inside mynetworks: the rest of the world, by MX
            ids.put("07", send(PORT, INSIDE, "ana@univ.es", "friend@foreign.test", "07"));
            ids.put("08", send(PORT, INSIDE, "ana@univ.es", "friend@backup.test", "08"));
            // the relay's own users: the transport table's local: entries
            ids.put("09", send(PORT, OUTSIDE, "sender@outside.example", "root@relay.univ.es", "09"));
            ids.put("10", send(PORT, OUTSIDE, "sender@outside.example", "postmaster@localhost.univ.es", "10"));
            // and from outside it stays refused
            assertEquals("554 5.7.1 <friend@foreign.test>: Relay access denied",
                    TutorialDelivery.rcptReply(PORT, OUTSIDE, "friend@foreign.test"));

            assertTrue(ItSupport.waitFor(() -> univ.bySeq().size() == 2 && depart1.bySeq().size() == 3
                    && depart2.bySeq().size() == 3 && foreignMx.bySeq().size() == 1 && backupMx2.bySeq().size() == 1, 60),
                    "not everything arrived: " + sinks + "\n" + ItSupport.maillog(gw));
            assertEquals(Map.of("01", List.of("ana@univ.es"), "06", List.of("ana@univ.es")), univ.bySeq());
            assertEquals(Map.of("02", List.of("luis@depart1.univ.es"), "03", List.of("eva@lab.depart1.univ.es"),
                    "06", List.of("luis@depart1.univ.es")), depart1.bySeq());
            assertEquals(Map.of("04", List.of("juan@depart2.univ.es"), "05", List.of("rosa@aula.depart2.univ.es"),
                    "06", List.of("juan@depart2.univ.es")), depart2.bySeq());
            assertEquals(Map.of("07", List.of("friend@foreign.test")), foreignMx.bySeq());
            assertEquals(Map.of("08", List.of("friend@backup.test")), backupMx2.bySeq());
            assertEquals(Map.of(), fund.bySeq());

            Path log = gw.maillogFile();
            assertTrue(awaitStatus(log, ids.get("09"), "root@relay.univ.es", 30).contains("relay=local, "),
                    ItSupport.maillog(gw));
            assertTrue(awaitStatus(log, ids.get("10"), "postmaster@localhost.univ.es", 30).contains("status=sent"),
                    ItSupport.maillog(gw));
            String rootMbox = TutorialDelivery.read(dir.resolve("mail/root"));
            assertTrue(rootMbox.startsWith("From sender@outside.example "), rootMbox);
            assertTrue(rootMbox.contains("X-Seq: 09") && rootMbox.contains("X-Seq: 10"), rootMbox);
            assertTrue(awaitStatus(log, ids.get("01"), "ana@univ.es", 10)
                    .contains("relay=smtp.univ.es[127.0.0.11]:25, "), ItSupport.maillog(gw));
            assertTrue(awaitStatus(log, ids.get("03"), "eva@lab.depart1.univ.es", 10)
                    .contains("relay=smtp.depart1.univ.es[127.0.0.12]:25, "), ItSupport.maillog(gw));
            assertTrue(awaitStatus(log, ids.get("05"), "rosa@aula.depart2.univ.es", 10)
                    .contains("relay=smtp.depart2.univ.es[127.0.0.13]:25, "), ItSupport.maillog(gw));
            assertTrue(awaitStatus(log, ids.get("07"), "friend@foreign.test", 10)
                    .contains("relay=mx.foreign.test[127.0.0.14]:25, "), ItSupport.maillog(gw));
            String backup = awaitStatus(log, ids.get("08"), "friend@backup.test", 10);
            assertTrue(backup.contains("relay=mx2.backup.test[127.0.0.16]:25, ") && backup.contains("status=sent"),
                    ItSupport.maillog(gw));
            for (String id : ids.values()) {
                assertTrue(ItSupport.maillog(gw).contains(id + ": removed"), id + " " + ItSupport.maillog(gw));
            }
            // Postfix on smtp.univ.es got it from the relay: both Received: lines
            String received = univ.arrivals().get(0).text();
            assertTrue(received.contains("by relay.univ.es (Estafeta) with ESMTP id "), received);
            assertTrue(received.contains("by smtp.univ.es (Postfix) with ESMTP id "), received);
            // the preferred MX was tried first, with Postfix's log line
            String log21 = ItSupport.maillog(gw);
            int refused = log21.indexOf("connect to mx1.backup.test[127.0.0.15]:25: Connection refused");
            assertTrue(refused >= 0 && refused < log21.indexOf(ids.get("08") + ": to=<friend@backup.test>"), log21);
        } finally {
            gw.stop();
        }
    }

    /**
     * Section 3: fund-univ.es is relayed (relay_domains) to smtp.univ.es, never by its MX (which names the relay
     * itself); then the transport table changes to smtp.fund-univ.es, is rebuilt with postmap, and the running
     * gateway follows it.
     */
    @Test
    void sectionThreeRelaysTheHostedDomainByTheTransportTableAndFollowsItsChange() throws Exception {
        Path dir = tmp.resolve("s3");
        Gateway gw = start(dir, MAIN_CF_3, TRANSPORT_3);
        try {
            String first = send(PORT, OUTSIDE, "sender@outside.example", "gerente@fund-univ.es", "31");
            assertTrue(ItSupport.waitFor(() -> univ.bySeq().containsKey("31"), 30),
                    "not at smtp.univ.es: " + sinks + "\n" + ItSupport.maillog(gw));
            assertEquals(List.of("gerente@fund-univ.es"), univ.bySeq().get("31"));
            assertTrue(awaitStatus(gw.maillogFile(), first, "gerente@fund-univ.es", 10)
                    .contains("relay=smtp.univ.es[127.0.0.11]:25, "), ItSupport.maillog(gw));

            Path table = dir.resolve("conf/transport");
            Files.writeString(table, TRANSPORT_3_LATER);
            TutorialDelivery.postmap(dir.resolve("conf"), dir.resolve("var"), table);
            // tables are checked for changes at most once a second
            Thread.sleep(1500);
            String later = send(PORT, OUTSIDE, "sender@outside.example", "gerente@fund-univ.es", "32");
            assertTrue(ItSupport.waitFor(() -> fund.bySeq().containsKey("32"), 30),
                    "not at smtp.fund-univ.es: " + sinks + "\n" + ItSupport.maillog(gw));
            assertEquals(List.of("gerente@fund-univ.es"), fund.bySeq().get("32"));
            assertTrue(awaitStatus(gw.maillogFile(), later, "gerente@fund-univ.es", 10)
                    .contains("relay=smtp.fund-univ.es[127.0.0.18]:25, "), ItSupport.maillog(gw));
            assertTrue(!univ.bySeq().containsKey("32"), "also at smtp.univ.es: " + univ);
        } finally {
            gw.stop();
        }
    }
}
