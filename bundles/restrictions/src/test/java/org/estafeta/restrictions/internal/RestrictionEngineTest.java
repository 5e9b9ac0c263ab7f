package org.estafeta.restrictions.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.message.Reply;
import org.estafeta.api.restriction.Restriction;
import org.estafeta.api.restriction.RestrictionRequest;
import org.estafeta.api.restriction.RestrictionVerdict;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.dns.Outcome;
import org.estafeta.restrictions.Decision;
import org.estafeta.restrictions.RestrictionEngine;
import org.estafeta.restrictions.SessionFacts;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class RestrictionEngineTest {
    private final RecordingLogger log = new RecordingLogger("smtpd");
    private final Fakes.Tables tables = new Fakes.Tables();
    private final Fakes.Dns dns = new Fakes.Dns();
    private RestrictionEngineComponent engine;

    @BeforeEach
    void start() {
        engine = new RestrictionEngineComponent(log);
        engine.setTables(tables);
        engine.setDns(dns);
        engine.activate();
    }

    @AfterEach
    void stop() {
        engine.deactivate();
    }

    /** A session from 192.0.2.7 (no name) that said EHLO client.example, MAIL FROM a@b.example, RCPT TO rcpt. */
    private static SessionFacts.Builder rcpt(String rcpt) {
        return SessionFacts.builder("192.0.2.7", 40000).command("RCPT").helo("client.example").sender("a@b.example")
                .recipient(rcpt);
    }

    private Decision eval(String list, SessionFacts facts, ConfigSnapshot config) {
        return engine.evaluateNow(list, facts, config);
    }

    /**
     * Accepted: OK or DUNNO. At RCPT both lists run and the last one's status is the result (Postfix), so a permit in
     * one list and a list that runs out in the other are both acceptance.
     */
    private static void assertAccepted(Decision d, String what) {
        assertTrue(!d.refused() && d.reply().isEmpty(), () -> what + ": " + d);
    }

    private static void assertReply(String expected, Decision d) {
        assertTrue(d.reply().isPresent(), () -> "no reply: " + d);
        assertEquals(expected, d.reply().get().toString());
    }

    // ------------------------------------------------------------ the tutorial, section 2.1

    private static ConfigSnapshot tutorialFirstLevel() {
        return Fakes.config("myhostname", "relay.univ.es", "mydomain", "univ.es",
                "mynetworks", "127.0.0.1 192.168.0.0/16",
                "mydestination", "relay.univ.es localhost.univ.es",
                "relay_domains", "univ.es",
                "smtpd_recipient_restrictions", "permit_mynetworks reject_unauth_destination");
    }

    @Test
    void tutorialFirstLevelRefusesForeignRelayFromOutsideMynetworks() {
        Decision d = eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").build(), tutorialFirstLevel());
        assertEquals(Decision.Kind.REJECT, d.kind());
        assertReply("554 5.7.1 <x@foreign.example>: Relay access denied", d);
        assertEquals(List.of("NOQUEUE: reject: RCPT from unknown[192.0.2.7]: 554 5.7.1 <x@foreign.example>: Relay"
                + " access denied; from=<a@b.example> to=<x@foreign.example> proto=ESMTP helo=<client.example>"),
                d.logLines());
        assertEquals(d.logLines().get(0), d.rejectLogLine().orElseThrow());
    }

    @Test
    void tutorialFirstLevelAcceptsRelayDomainsTheirSubdomainsAndMydestination() {
        for (String r : List.of("u@univ.es", "u@depart1.univ.es", "u@a.depart2.univ.es", "root@relay.univ.es",
                "root@LOCALHOST.univ.es.", "postmaster")) {
            Decision d = eval(RestrictionEngine.RECIPIENT, rcpt(r).build(), tutorialFirstLevel());
            assertAccepted(d, r);
        }
        // not a subdomain: a name that merely ends in the same letters
        Decision d = eval(RestrictionEngine.RECIPIENT, rcpt("u@notuniv.es").build(), tutorialFirstLevel());
        assertReply("554 5.7.1 <u@notuniv.es>: Relay access denied", d);
    }

    @Test
    void tutorialFirstLevelRelaysForMynetworks() {
        for (String client : List.of("127.0.0.1", "192.168.7.9")) {
            SessionFacts f = SessionFacts.builder(client, 1025).command("RCPT").sender("a@b.example")
                    .recipient("x@foreign.example").build();
            assertEquals(Decision.Kind.OK, eval(RestrictionEngine.RECIPIENT, f, tutorialFirstLevel()).kind(), client);
        }
        SessionFacts outside = SessionFacts.builder("192.169.0.1", 1025).command("RCPT").sender("a@b.example")
                .recipient("x@foreign.example").build();
        assertEquals(Decision.Kind.REJECT, eval(RestrictionEngine.RECIPIENT, outside, tutorialFirstLevel()).kind());
    }

    @Test
    void sourceRoutedRecipientsAreNotAuthorized() {
        ConfigSnapshot c = tutorialFirstLevel();
        // user%foreign@relay-domain stays routed: refused, as Postfix (allow_untrusted_routing = no)
        assertReply("554 5.7.1 <x%foreign.example@univ.es>: Relay access denied",
                eval(RestrictionEngine.RECIPIENT, rcpt("x%foreign.example@univ.es").build(), c));
        // user%foreign@mydestination is peeled into user@foreign: refused as well
        assertEquals(Decision.Kind.REJECT,
                eval(RestrictionEngine.RECIPIENT, rcpt("x%foreign.example@relay.univ.es").build(), c).kind());
        assertEquals(Decision.Kind.REJECT,
                eval(RestrictionEngine.RECIPIENT, rcpt("foreign.example!x@relay.univ.es").build(), c).kind());
        // ... while local routing to a relay domain is fine
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("x%depart1.univ.es@relay.univ.es").build(), c), "local route");
    }

    @Test
    void addressLiteralOfInetInterfacesIsFinal() {
        ConfigSnapshot c = Fakes.config("inet_interfaces", "127.0.0.1, 192.0.2.25",
                "smtpd_recipient_restrictions", "reject_unauth_destination");
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("root@[192.0.2.25]").build(), c), "own literal");
        assertReply("554 5.7.1 <u@[192.0.2.26]>: Relay access denied",
                eval(RestrictionEngine.RECIPIENT, rcpt("u@[192.0.2.26]").build(), c));
    }

    // ------------------------------------------------------------ compatibility_level and the relay list

    @Test
    void belowLevelOneAnUnsetRelayListIsEmptyAndMustBeCompensated() {
        ConfigSnapshot level0 = Fakes.config();
        assertEquals(List.of("in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least"
                + " one working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer,"
                + " defer_if_permit or check_relay_domains"), engine.configurationErrors(level0));
        assertEquals(List.of(), engine.configurationErrors(tutorialFirstLevel()));
        // the effective relay list at level 0 never rejects (Postfix evaluates it only to log a hint)
        ConfigSnapshot open = Fakes.config("smtpd_relay_restrictions", "", "smtpd_recipient_restrictions", "");
        assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").build(), open).kind());
        // but Postfix's smtpd refuses to start on this configuration (smtpd does too, at start), and a session that
        // began before the engine could be asked must still not relay for everyone: the service fails closed
        assertReply("451 4.3.5 Server configuration error", engine.evaluate(RestrictionEngine.RECIPIENT,
                rcpt("x@foreign.example").build(), open).toCompletableFuture().join());
    }

    @Test
    void levelTwoDefaultRelayListDefersForeignRelays() {
        ConfigSnapshot c = Fakes.config("compatibility_level", "3.6", "relay_domains", "",
                "smtpd_relay_restrictions", "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
                "smtpd_relay_before_recipient_restrictions", "yes");
        assertEquals(List.of(), engine.configurationErrors(c));
        assertReply("454 4.7.1 <x@foreign.example>: Relay access denied",
                eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").build(), c));
        assertEquals(Decision.Kind.DEFER, eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").build(), c).kind());
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").sasl("PLAIN", "alice").build(), c),
                "sasl");
        // an anonymous login is not an authenticated one
        assertEquals(Decision.Kind.DEFER, eval(RestrictionEngine.RECIPIENT,
                rcpt("x@foreign.example").sasl("ANONYMOUS", "anon").build(), c).kind());
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("root@mx.example.net").build(), c), "mydestination");
    }

    @Test
    void tlsClientCertificatesRelayByFingerprintOrWhenVerified() {
        ConfigSnapshot c = Fakes.config("compatibility_level", "3.6", "relay_domains", "",
                "smtpd_relay_restrictions", "permit_tls_clientcerts, reject_unauth_destination",
                "relay_clientcerts", "hash:/etc/postfix/relay_clientcerts", "smtpd_tls_ask_ccert", "yes");
        // postmap folds keys to lower case, and lookups of fixed-string tables are folded too, as Postfix
        tables.put("hash:/etc/postfix/relay_clientcerts", "aa:bb", "laptop");
        SessionFacts.ClientCertificate listed = new SessionFacts.ClientCertificate("laptop.example", "AA:BB", "CC:DD", false);
        SessionFacts.ClientCertificate listedKey = new SessionFacts.ClientCertificate("key.example", "00:11", "AA:BB", false);
        SessionFacts.ClientCertificate other = new SessionFacts.ClientCertificate("old.example", "00:11", "22:33", true);
        // a listed fingerprint relays even when its issuer is not trusted, as Postfix
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").tls(true).clientCertificate(listed).build(), c),
                "certificate fingerprint");
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").tls(true).clientCertificate(listedKey).build(), c),
                "public key fingerprint");
        assertReply("554 5.7.1 <x@foreign.example>: Relay access denied",
                eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").tls(true).clientCertificate(other).build(), c));
        assertReply("554 5.7.1 <x@foreign.example>: Relay access denied",
                eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").build(), c));
        // permit_tls_all_clientcerts: any verified certificate
        ConfigSnapshot all = Fakes.config("compatibility_level", "3.6", "relay_domains", "",
                "smtpd_relay_restrictions", "permit_tls_all_clientcerts, reject_unauth_destination");
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").tls(true).clientCertificate(other).build(), all),
                "verified");
        assertReply("554 5.7.1 <x@foreign.example>: Relay access denied",
                eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").tls(true).clientCertificate(listed).build(), all));
        // check_ccert_access: an access table keyed by fingerprint
        ConfigSnapshot access = Fakes.config("compatibility_level", "3.6", "relay_domains", "",
                "smtpd_relay_restrictions", "check_ccert_access hash:/etc/postfix/ccerts, reject_unauth_destination");
        tables.put("hash:/etc/postfix/ccerts", "00:11", "REJECT revoked laptop");
        assertReply("554 5.7.1 <old.example>: Client certificate rejected: revoked laptop",
                eval(RestrictionEngine.RECIPIENT, rcpt("x@foreign.example").tls(true).clientCertificate(other).build(), access));
    }

    @Test
    void bothRecipientListsMustPassInEitherOrder() {
        for (String before : List.of("yes", "no")) {
            ConfigSnapshot c = Fakes.config("compatibility_level", "2", "smtpd_relay_before_recipient_restrictions",
                    before, "smtpd_relay_restrictions", "permit", "smtpd_recipient_restrictions", "reject");
            assertReply("554 5.7.1 <u@x.example>: Recipient address rejected: Access denied",
                    eval(RestrictionEngine.RECIPIENT, rcpt("u@x.example").build(), c));
        }
    }

    // ------------------------------------------------------------ generic restrictions, first match wins

    @Test
    void firstMatchWins() {
        SessionFacts local = SessionFacts.builder("127.0.0.1", 1).command("CONNECT").build();
        assertEquals(Decision.Kind.OK, eval(RestrictionEngine.CLIENT, local,
                Fakes.config("smtpd_client_restrictions", "permit_mynetworks, reject")).kind());
        Decision d = eval(RestrictionEngine.CLIENT, local, Fakes.config("smtpd_client_restrictions",
                "reject permit_mynetworks"));
        assertReply("554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied".replace("localhost",
                "unknown"), d);
        assertTrue(log.lines(Level.WARN).contains("restriction `permit_mynetworks' after `reject' is ignored"),
                log.lines().toString());
        assertEquals(Decision.Kind.DUNNO,
                eval(RestrictionEngine.CLIENT, local, Fakes.config("smtpd_client_restrictions", "")).kind());
    }

    @Test
    void permitRejectDeferWithTheirCodes() {
        SessionFacts f = rcpt("u@x.example").build();
        assertReply("450 4.3.2 <u@x.example>: Recipient address rejected: Try again later", eval(
                RestrictionEngine.RECIPIENT, f, Fakes.config("smtpd_recipient_restrictions", "defer")));
        assertReply("550 5.7.1 <u@x.example>: Recipient address rejected: Access denied", eval(
                RestrictionEngine.RECIPIENT, f, Fakes.config("smtpd_recipient_restrictions", "reject",
                        "reject_code", "550")));
        assertReply("554 5.7.1 <client.example>: Helo command rejected: Access denied",
                eval(RestrictionEngine.HELO, f, Fakes.config("smtpd_helo_restrictions", "reject")));
        assertReply("554 5.7.1 <a@b.example>: Sender address rejected: Access denied",
                eval(RestrictionEngine.SENDER, f, Fakes.config("smtpd_sender_restrictions", "reject")));
        assertReply("554 5.7.1 <DATA>: Data command rejected: Access denied",
                eval(RestrictionEngine.DATA, f.toBuilder().command("DATA").build(),
                        Fakes.config("smtpd_data_restrictions", "reject")));
        assertReply("554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied",
                eval(RestrictionEngine.END_OF_DATA, f.toBuilder().command("END-OF-MESSAGE").build(),
                        Fakes.config("smtpd_end_of_data_restrictions", "reject")));
    }

    @Test
    void unknownRestrictionIsAServerConfigurationError() {
        Decision d = eval(RestrictionEngine.CLIENT, rcpt("u@x").build(),
                Fakes.config("smtpd_client_restrictions", "reject_everything_bad, permit"));
        assertEquals(Decision.Kind.DEFER, d.kind());
        assertReply("451 4.3.5 Server configuration error", d);
        assertTrue(log.lines(Level.WARN).contains("unknown smtpd restriction: \"reject_everything_bad\""),
                log.lines().toString());
    }

    @Test
    void warnIfRejectLogsAndGoesOn() {
        Decision d = eval(RestrictionEngine.CLIENT, rcpt("u@x").build(),
                Fakes.config("smtpd_client_restrictions", "warn_if_reject reject, permit"));
        assertEquals(Decision.Kind.OK, d.kind());
        assertTrue(d.logLines().get(0).startsWith("NOQUEUE: reject_warning: RCPT from unknown[192.0.2.7]: 554 5.7.1"
                + " <unknown[192.0.2.7]>: Client host rejected: Access denied;"), d.logLines().toString());
    }

    // ------------------------------------------------------------ client names

    @Test
    void rejectUnknownClientHostname() {
        ConfigSnapshot c = Fakes.config("smtpd_client_restrictions", "reject_unknown_client");
        SessionFacts unknown = SessionFacts.builder("192.0.2.7", 1).build();
        assertReply("450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.7]",
                eval(RestrictionEngine.CLIENT, unknown, c));
        ConfigSnapshot c550 = Fakes.config("smtpd_client_restrictions", "reject_unknown_client_hostname",
                "unknown_client_reject_code", "550");
        assertReply("550 5.7.25 Client host rejected: cannot find your hostname, [192.0.2.7]",
                eval(RestrictionEngine.CLIENT, unknown, c550));
        SessionFacts temp = SessionFacts.builder("192.0.2.7", 1)
                .clientName("unknown", Outcome.TEMPORARY_FAILURE).build();
        assertReply("450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.7]",
                eval(RestrictionEngine.CLIENT, temp, c550));
        SessionFacts known = SessionFacts.builder("192.0.2.7", 1).clientName("mail.example.org", Outcome.FOUND)
                .build();
        assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.CLIENT, known, c550).kind());
    }

    @Test
    void rejectUnknownReverseClientHostname() {
        ConfigSnapshot c = Fakes.config("smtpd_client_restrictions", "reject_unknown_reverse_client_hostname",
                "unknown_client_reject_code", "550");
        assertReply("550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.7]",
                eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.7", 1).build(), c));
        assertReply("450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.7]",
                eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.7", 1)
                        .reverseClientName("unknown", Outcome.TEMPORARY_FAILURE).build(), c));
        // a PTR name that does not verify is still a reverse name
        assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.7", 1)
                .reverseClientName("forged.example", Outcome.FOUND).build(), c).kind());
    }

    // ------------------------------------------------------------ HELO

    private static SessionFacts heloFacts(String helo) {
        return SessionFacts.builder("192.0.2.7", 1).command("EHLO").helo(helo).build();
    }

    @Test
    void heloSyntaxChecksWithTheirOldNames() {
        for (String name : List.of("reject_invalid_helo_hostname", "reject_invalid_hostname")) {
            ConfigSnapshot c = Fakes.config("smtpd_helo_restrictions", name);
            assertReply("501 5.5.2 <bad_name!>: Helo command rejected: Invalid name",
                    eval(RestrictionEngine.HELO, heloFacts("bad_name!"), c));
            assertReply("501 5.5.2 <-x.example>: Helo command rejected: Invalid name",
                    eval(RestrictionEngine.HELO, heloFacts("-x.example"), c));
            assertReply("501 5.5.2 <[1.2.3]>: Helo command rejected: invalid ip address",
                    eval(RestrictionEngine.HELO, heloFacts("[1.2.3]"), c));
            for (String good : List.of("mail.example.org", "mail.example.org.", "localhost", "[192.0.2.1]",
                    "[IPv6:2001:db8::1]", "192.0.2.1")) {
                assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.HELO, heloFacts(good), c).kind(), good);
            }
        }
        for (String name : List.of("reject_non_fqdn_helo_hostname", "reject_non_fqdn_hostname")) {
            ConfigSnapshot c = Fakes.config("smtpd_helo_restrictions", name);
            assertReply("504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
                    eval(RestrictionEngine.HELO, heloFacts("localhost"), c));
            assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.HELO, heloFacts("a.example."), c).kind());
        }
        // no HELO yet: nothing to check
        assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.HELO, SessionFacts.builder("192.0.2.7", 1).build(),
                Fakes.config("smtpd_helo_restrictions", "reject")).kind());
    }

    @Test
    void rejectUnknownHeloHostnameUsesDnsAndDefersOnTemporaryFailure() {
        dns.address("a.example.org", "192.0.2.1").mx("mx-only.example.org", 10, "mail.example.org");
        for (String name : List.of("reject_unknown_helo_hostname", "reject_unknown_hostname")) {
            ConfigSnapshot c = Fakes.config("smtpd_helo_restrictions", name);
            assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.HELO, heloFacts("a.example.org"), c).kind());
            assertEquals(Decision.Kind.DUNNO,
                    eval(RestrictionEngine.HELO, heloFacts("mx-only.example.org"), c).kind());
            assertReply("450 4.7.1 <nx.example.org>: Helo command rejected: Host not found",
                    eval(RestrictionEngine.HELO, heloFacts("nx.example.org"), c));
        }
        ConfigSnapshot c = Fakes.config("smtpd_helo_restrictions", "reject_unknown_helo_hostname",
                "unknown_hostname_reject_code", "550");
        assertReply("550 5.7.1 <nx.example.org>: Helo command rejected: Host not found",
                eval(RestrictionEngine.HELO, heloFacts("nx.example.org"), c));
        // DNS trouble is never a 5xx: defer_if_permit, carried to RCPT
        dns.failing.add("flaky.example.org");
        Decision helo = eval(RestrictionEngine.HELO, heloFacts("flaky.example.org"), c);
        assertEquals(Decision.Kind.DUNNO, helo.kind());
        assertEquals("450 4.7.1 <flaky.example.org>: Helo command rejected: Host not found",
                helo.deferIfPermit().orElseThrow().toString());
        SessionFacts atRcpt = SessionFacts.builder("192.0.2.7", 1).command("RCPT").helo("flaky.example.org")
                .sender("a@b.example").recipient("u@mx.example.net").deferIfPermit(helo.deferIfPermit()).build();
        Decision r = eval(RestrictionEngine.RECIPIENT, atRcpt, Fakes.config("smtpd_recipient_restrictions",
                "reject_unauth_destination"));
        assertEquals(Decision.Kind.DEFER, r.kind());
        assertReply("450 4.7.1 <flaky.example.org>: Helo command rejected: Host not found", r);
        // ... unless the recipient is rejected anyway
        Decision rejected = eval(RestrictionEngine.RECIPIENT, atRcpt.toBuilder().recipient("u@foreign.example")
                .build(), Fakes.config("smtpd_recipient_restrictions", "reject_unauth_destination"));
        assertReply("554 5.7.1 <u@foreign.example>: Relay access denied", rejected);
        // with the tempfail action "defer" it is an immediate 450
        assertReply("450 4.7.1 <flaky.example.org>: Helo command rejected: Host not found",
                eval(RestrictionEngine.HELO, heloFacts("flaky.example.org"), Fakes.config("smtpd_helo_restrictions",
                        "reject_unknown_helo_hostname", "unknown_helo_hostname_tempfail_action", "defer")));
    }

    // ------------------------------------------------------------ sender and recipient addresses

    private static SessionFacts mailFrom(String sender) {
        return SessionFacts.builder("192.0.2.7", 1).command("MAIL").helo("c.example").sender(sender).build();
    }

    @Test
    void nonFqdnAddresses() {
        ConfigSnapshot c = Fakes.config("smtpd_sender_restrictions", "reject_non_fqdn_sender",
                "smtpd_recipient_restrictions", "reject_non_fqdn_recipient, permit");
        assertReply("504 5.5.2 <a@localhost>: Sender address rejected: need fully-qualified address",
                eval(RestrictionEngine.SENDER, mailFrom("a@localhost"), c));
        assertReply("504 5.5.2 <a>: Sender address rejected: need fully-qualified address",
                eval(RestrictionEngine.SENDER, mailFrom("a"), c));
        assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.SENDER, mailFrom(""), c).kind());
        assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.SENDER, mailFrom("a@[192.0.2.1]"), c).kind());
        assertReply("504 5.5.2 <bob@host>: Recipient address rejected: need fully-qualified address",
                eval(RestrictionEngine.RECIPIENT, rcpt("bob@host").build(), c));
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("bob@host.example").build(), c), "fqdn");
    }

    @Test
    void unknownSenderAndRecipientDomains() {
        dns.mx("good.example", 10, "mx.good.example").address("a-only.example", "192.0.2.3")
                .mx("nullmx.example", 0, ".");
        dns.failing.add("flaky.example");
        ConfigSnapshot c = Fakes.config("smtpd_sender_restrictions", "reject_unknown_sender_domain",
                "smtpd_recipient_restrictions", "reject_unknown_recipient_domain, permit");
        assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.SENDER, mailFrom("a@good.example"), c).kind());
        assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.SENDER, mailFrom("a@a-only.example"), c).kind());
        assertReply("450 4.1.8 <a@nx.example>: Sender address rejected: Domain not found",
                eval(RestrictionEngine.SENDER, mailFrom("a@nx.example"), c));
        assertReply("550 5.7.27 <a@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept"
                + " mail (nullMX)", eval(RestrictionEngine.SENDER, mailFrom("a@nullmx.example"), c));
        assertReply("450 4.1.2 <u@nx.example>: Recipient address rejected: Domain not found",
                eval(RestrictionEngine.RECIPIENT, rcpt("u@nx.example").build(), c));
        assertReply("556 5.1.10 <u@nullmx.example>: Recipient address rejected: Domain nullmx.example does not"
                + " accept mail (nullMX)", eval(RestrictionEngine.RECIPIENT, rcpt("u@nullmx.example").build(), c));
        // local destinations are not looked up
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("root@mx.example.net").build(), c), "local");
        // temporary failure: no 5xx, and at RCPT (the last stage) it is a 450
        Decision flaky = eval(RestrictionEngine.SENDER, mailFrom("a@flaky.example"), c);
        assertEquals(Decision.Kind.DUNNO, flaky.kind());
        assertEquals("450 4.1.8 <a@flaky.example>: Sender address rejected: Domain not found",
                flaky.deferIfPermit().orElseThrow().toString());
        assertReply("450 4.1.2 <u@flaky.example>: Recipient address rejected: Domain not found",
                eval(RestrictionEngine.RECIPIENT, rcpt("u@flaky.example").build(), c));
        ConfigSnapshot c550 = Fakes.config("smtpd_sender_restrictions", "reject_unknown_sender_domain",
                "unknown_address_reject_code", "550");
        assertReply("550 5.1.8 <a@nx.example>: Sender address rejected: Domain not found",
                eval(RestrictionEngine.SENDER, mailFrom("a@nx.example"), c550));
    }

    // ------------------------------------------------------------ access tables

    @Test
    void accessResultsAndTheirReplies() {
        tables.put("hash:/etc/access", "reject.example", "REJECT")
                .put("hash:/etc/access", "text.example", "REJECT Go away")
                .put("hash:/etc/access", "dsn.example", "REJECT 5.7.9 No thanks")
                .put("hash:/etc/access", "defer.example", "DEFER")
                .put("hash:/etc/access", "code.example", "521 Closed")
                .put("hash:/etc/access", "code4.example", "421 4.7.0 Later")
                .put("hash:/etc/access", "ok.example", "OK")
                .put("hash:/etc/access", "digits.example", "1700000000")
                .put("hash:/etc/access", "dunno.example", "DUNNO")
                .put("hash:/etc/access", "class.example", "reject_non_fqdn_sender reject");
        ConfigSnapshot c = Fakes.config("smtpd_sender_restrictions", "check_sender_access hash:/etc/access, reject");
        assertReply("554 5.7.1 <a@reject.example>: Sender address rejected: Access denied",
                eval(RestrictionEngine.SENDER, mailFrom("a@reject.example"), c));
        assertReply("554 5.7.1 <a@text.example>: Sender address rejected: Go away",
                eval(RestrictionEngine.SENDER, mailFrom("a@text.example"), c));
        assertReply("554 5.7.9 <a@dsn.example>: Sender address rejected: No thanks",
                eval(RestrictionEngine.SENDER, mailFrom("a@dsn.example"), c));
        assertReply("450 4.7.1 <a@defer.example>: Sender address rejected: Access denied",
                eval(RestrictionEngine.SENDER, mailFrom("a@defer.example"), c));
        assertReply("521 5.7.1 <a@code.example>: Sender address rejected: Closed",
                eval(RestrictionEngine.SENDER, mailFrom("a@code.example"), c));
        assertReply("421 4.7.0 <a@code4.example>: Sender address rejected: Later",
                eval(RestrictionEngine.SENDER, mailFrom("a@code4.example"), c));
        assertEquals(Decision.Kind.OK, eval(RestrictionEngine.SENDER, mailFrom("a@ok.example"), c).kind());
        assertEquals(Decision.Kind.OK, eval(RestrictionEngine.SENDER, mailFrom("a@digits.example"), c).kind());
        // DUNNO goes on to the next restriction
        assertReply("554 5.7.1 <a@dunno.example>: Sender address rejected: Access denied",
                eval(RestrictionEngine.SENDER, mailFrom("a@dunno.example"), c));
        // restriction names as a result
        assertReply("554 5.7.1 <a@class.example>: Sender address rejected: Access denied",
                eval(RestrictionEngine.SENDER, mailFrom("a@class.example"), c));
        assertEquals(0, tables.open, "every handle is closed after the evaluation");
    }

    @Test
    void senderLookupOrderIsPostfixs() {
        tables.put("hash:/a", "unrelated", "OK");
        ConfigSnapshot c = Fakes.config("smtpd_sender_restrictions", "check_sender_access hash:/a");
        eval(RestrictionEngine.SENDER, mailFrom("User@Sub.Example.COM"), c);
        assertEquals(List.of("hash:/a user@sub.example.com", "hash:/a sub.example.com", "hash:/a example.com",
                "hash:/a com", "hash:/a user@"), tables.lookups);
        tables.lookups.clear();
        ConfigSnapshot dotted = Fakes.config("smtpd_sender_restrictions", "check_sender_access hash:/a",
                "parent_domain_matches_subdomains", "relay_domains");
        eval(RestrictionEngine.SENDER, mailFrom("user@sub.example.com"), dotted);
        assertEquals(List.of("hash:/a user@sub.example.com", "hash:/a sub.example.com", "hash:/a .example.com",
                "hash:/a .com", "hash:/a user@"), tables.lookups);
        // the null sender is looked up as <>
        tables.lookups.clear();
        tables.put("hash:/a", "<>", "REJECT no bounces");
        assertReply("554 5.7.1 <>: Sender address rejected: no bounces",
                eval(RestrictionEngine.SENDER, mailFrom(""), c));
    }

    @Test
    void clientLookupOrderIsNameParentsThenAddressPrefixes() {
        tables.put("hash:/c", "10.1", "REJECT network 10.1");
        ConfigSnapshot c = Fakes.config("smtpd_client_restrictions", "check_client_access hash:/c");
        SessionFacts f = SessionFacts.builder("10.1.2.3", 1).clientName("host.sub.example.org", Outcome.FOUND).build();
        Decision d = eval(RestrictionEngine.CLIENT, f, c);
        assertEquals(List.of("hash:/c host.sub.example.org", "hash:/c sub.example.org", "hash:/c example.org",
                "hash:/c org", "hash:/c 10.1.2.3", "hash:/c 10.1.2", "hash:/c 10.1"), tables.lookups);
        assertReply("554 5.7.1 <host.sub.example.org[10.1.2.3]>: Client host rejected: network 10.1", d);
        // pattern tables see only the full keys
        tables.lookups.clear();
        tables.put("regexp:/r", "x", "OK");
        eval(RestrictionEngine.CLIENT, f, Fakes.config("smtpd_client_restrictions", "check_client_access regexp:/r"));
        assertEquals(List.of("regexp:/r host.sub.example.org", "regexp:/r 10.1.2.3"), tables.lookups);
    }

    @Test
    void tableTemporaryFailureIs4xx() {
        tables.failing.add("hash:/down");
        Decision d = eval(RestrictionEngine.RECIPIENT, rcpt("u@x.example").build(),
                Fakes.config("smtpd_recipient_restrictions", "check_recipient_access hash:/down, permit"));
        assertEquals(Decision.Kind.DEFER, d.kind());
        assertReply("451 4.3.5 <u@x.example>: Recipient address rejected: Server configuration error", d);
        // a list that needs the table (mynetworks) says "Temporary lookup failure"
        Decision m = eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.7", 1).build(),
                Fakes.config("mynetworks", "hash:/down", "smtpd_client_restrictions", "permit_mynetworks, reject"));
        assertReply("451 4.3.0 <unknown[192.0.2.7]>: Temporary lookup failure", m);
    }

    @Test
    void actionsAreCollectedForCleanup() {
        tables.put("hash:/r", "hold.example", "HOLD")
                .put("hash:/r", "filter.example", "FILTER smtp:[127.0.0.1]:10025")
                .put("hash:/r", "redirect.example", "REDIRECT abuse@example.net")
                .put("hash:/r", "prepend.example", "PREPEND X-Checked: yes")
                .put("hash:/r", "discard.example", "DISCARD spam");
        ConfigSnapshot c = Fakes.config("smtpd_recipient_restrictions", "check_recipient_access hash:/r, permit");
        Decision hold = eval(RestrictionEngine.RECIPIENT, rcpt("u@hold.example").build(), c);
        assertAccepted(hold, "hold");
        assertEquals(Optional.of("<u@hold.example>: Recipient address triggers HOLD action"), hold.actions().hold());
        assertEquals("NOQUEUE: hold: RCPT from unknown[192.0.2.7]: <u@hold.example>: Recipient address triggers"
                + " HOLD action; from=<a@b.example> to=<u@hold.example> proto=ESMTP helo=<client.example>",
                hold.logLines().get(0));
        Decision filter = eval(RestrictionEngine.RECIPIENT, rcpt("u@filter.example").actions(hold.actions()).build(), c);
        assertEquals(Optional.of("smtp:[127.0.0.1]:10025"), filter.actions().filter());
        assertTrue(filter.actions().hold().isPresent(), "actions accumulate over the transaction");
        assertEquals(Optional.of("abuse@example.net"),
                eval(RestrictionEngine.RECIPIENT, rcpt("u@redirect.example").build(), c).actions().redirect());
        assertEquals(List.of("X-Checked: yes"),
                eval(RestrictionEngine.RECIPIENT, rcpt("u@prepend.example").build(), c).actions().prependHeaders());
        Decision discard = eval(RestrictionEngine.RECIPIENT, rcpt("u@discard.example").build(),
                Fakes.config("smtpd_recipient_restrictions", "check_recipient_access hash:/r, reject"));
        assertAccepted(discard, "discard stops the restrictions: the reject after it never runs");
        assertEquals(Optional.of("<u@discard.example>: Recipient address spam"), discard.actions().discard());
        // before MAIL FROM (smtpd_delay_reject = no) these actions are skipped, with Postfix's warning
        tables.put("hash:/c2", "192.0.2.7", "HOLD");
        Decision early = eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.7", 1).build(),
                Fakes.config("smtpd_client_restrictions", "check_client_access hash:/c2"));
        assertEquals(Decision.Kind.DUNNO, early.kind());
        assertEquals(Optional.empty(), early.actions().hold());
        assertTrue(log.lines(Level.WARN).contains("access table hash:/c2: with smtpd_delay_reject=no, action HOLD is"
                + " always skipped in Client host or Helo command restrictions"), log.lines().toString());
    }

    @Test
    void restrictionClasses() {
        tables.put("hash:/rcpt", "customer.example", "permissive").put("hash:/rcpt", "strict.example", "restrictive");
        ConfigSnapshot c = Fakes.config("smtpd_restriction_classes", "permissive, restrictive",
                "permissive", "permit", "restrictive", "reject_unknown_sender_domain, reject",
                "smtpd_recipient_restrictions", "check_recipient_access hash:/rcpt, reject_unauth_destination");
        assertAccepted(eval(RestrictionEngine.RECIPIENT, rcpt("u@customer.example").build(), c), "permissive");
        dns.mx("b.example", 10, "mx.b.example");
        assertReply("554 5.7.1 <u@strict.example>: Recipient address rejected: Access denied",
                eval(RestrictionEngine.RECIPIENT, rcpt("u@strict.example").build(), c));
        // a class name used directly in a list
        assertReply("554 5.7.1 <a@b.example>: Sender address rejected: Access denied",
                eval(RestrictionEngine.SENDER, mailFrom("a@b.example"), Fakes.config("smtpd_restriction_classes",
                        "restrictive", "restrictive", "reject", "smtpd_sender_restrictions", "restrictive")));
        assertEquals(List.of("restriction class `empty' needs a definition"), engine.configurationErrors(
                Fakes.config("smtpd_restriction_classes", "empty", "smtpd_recipient_restrictions", "reject")));
    }

    // ------------------------------------------------------------ DNS block lists

    @Test
    void rblAndRhsblReplies() {
        dns.address("7.2.0.192.zen.example", "127.0.0.2");
        dns.txt.put("7.2.0.192.zen.example", "listed for spam");
        dns.address("spam.example.dbl.example", "127.0.1.2");
        ConfigSnapshot c = Fakes.config("smtpd_client_restrictions",
                "reject_rbl_client zen.example, reject_rhsbl_client dbl.example",
                "smtpd_sender_restrictions", "reject_rhsbl_sender dbl.example",
                "smtpd_helo_restrictions", "reject_rhsbl_helo dbl.example");
        assertReply("554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using zen.example; listed for"
                + " spam", eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.7", 1).build(), c));
        assertEquals(Decision.Kind.DUNNO,
                eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.8", 1).build(), c).kind());
        assertReply("554 5.7.1 Service unavailable; Client host [spam.example] blocked using dbl.example",
                eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.8", 1)
                        .clientName("spam.example", Outcome.FOUND).build(), c));
        assertReply("554 5.7.1 Service unavailable; Sender address [x@spam.example] blocked using dbl.example",
                eval(RestrictionEngine.SENDER, mailFrom("x@spam.example"), c));
        assertReply("554 5.7.1 Service unavailable; Helo command [spam.example] blocked using dbl.example",
                eval(RestrictionEngine.HELO, heloFacts("spam.example"), c));
        // a reply-code filter that does not match
        assertEquals(Decision.Kind.DUNNO, eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.7", 1).build(),
                Fakes.config("smtpd_client_restrictions", "reject_rbl_client zen.example=127.0.0.[3..11]")).kind());
        assertEquals(Decision.Kind.REJECT, eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.7", 1).build(),
                Fakes.config("smtpd_client_restrictions", "reject_rbl_client zen.example=127.0.0.[2;4]")).kind());
        // a DNS failure never rejects
        dns.failing.add("9.2.0.192.zen.example");
        assertEquals(Decision.Kind.DUNNO,
                eval(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.9", 1).build(), c).kind());
        assertTrue(log.lines(Level.WARN).stream().anyMatch(l -> l.startsWith("9.2.0.192.zen.example: RBL lookup error")),
                log.lines().toString());
    }

    // ------------------------------------------------------------ plugins and threading

    @Test
    void pluginRestrictionByNameWithItsArguments() {
        Restriction greylist = (RestrictionRequest request, org.estafeta.api.plugin.PluginContext ctx) ->
                request.arguments().equals(List.of("60s")) && request.stage() == RestrictionRequest.Stage.RECIPIENT
                        ? new RestrictionVerdict.Defer(Reply.tempfail(450, "4.2.0", "Greylisted, try again in "
                                + request.arguments().get(0)))
                        : RestrictionVerdict.DUNNO;
        Map<String, Object> props = new HashMap<>();
        props.put(Restriction.NAME, "check_greylist");
        props.put(org.estafeta.api.restriction.Restriction.ARGUMENTS, 1);
        engine.addRestriction(greylist, props);
        ConfigSnapshot c = Fakes.config("smtpd_recipient_restrictions", "check_greylist 60s, permit");
        assertReply("450 4.2.0 Greylisted, try again in 60s",
                eval(RestrictionEngine.RECIPIENT, rcpt("u@x.example").build(), c));
        engine.removeRestriction(greylist, props);
        assertReply("451 4.3.5 Server configuration error",
                eval(RestrictionEngine.RECIPIENT, rcpt("u@x.example").build(), c));
    }

    @Test
    void evaluateRunsOnTheEnginesWorkersNotTheCaller() throws Exception {
        Thread[] ran = new Thread[1];
        Restriction probe = (request, ctx) -> {
            ran[0] = Thread.currentThread();
            return RestrictionVerdict.PERMIT;
        };
        engine.addRestriction(probe, Map.of(Restriction.NAME, "probe"));
        Decision d = engine.evaluate(RestrictionEngine.CLIENT, SessionFacts.builder("192.0.2.7", 1).build(),
                Fakes.config("smtpd_client_restrictions", "probe")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(Decision.Kind.OK, d.kind());
        assertNotEquals(Thread.currentThread(), ran[0]);
        assertTrue(ran[0].getName().startsWith("restrictions-"), ran[0].getName());
    }
}
