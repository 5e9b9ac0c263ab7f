package org.estafeta.restrictions.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.restrictions.Decision;
import org.estafeta.restrictions.RestrictionEngine;
import org.estafeta.restrictions.SessionFacts;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/**
 * Recipient (and sender) validation as smtpd_check.c's check_rcpt_maps: the table of each address class, the implicit
 * check after the recipient restrictions ({@code smtpd_reject_unlisted_recipient}), the explicit
 * {@code reject_unlisted_recipient} and {@code reject_unlisted_sender}, Postfix's lookup keys, reply codes and texts,
 * and lookup failures. The default local_recipient_maps ({@code proxy:unix:passwd.byname hash:/etc/aliases,
 * nis:mail.aliases}) knows root and postmaster ({@link Fakes.Tables}).
 */
class UnlistedRecipientTest {
    private final RecordingLogger log = new RecordingLogger("smtpd");
    private final Fakes.Tables tables = new Fakes.Tables();
    private RestrictionEngineComponent engine;

    @BeforeEach
    void start() {
        engine = new RestrictionEngineComponent(log);
        engine.setTables(tables);
        engine.activate();
    }

    @AfterEach
    void stop() {
        engine.deactivate();
    }

    /** A relay configuration of Postfix's defaults plus {@code more}: mydestination is mx.example.net. */
    private static ConfigSnapshot config(String... more) {
        List<String> nv = new ArrayList<>(List.of("smtpd_recipient_restrictions",
                "permit_mynetworks, reject_unauth_destination"));
        nv.addAll(List.of(more));
        return Fakes.config(nv.toArray(String[]::new));
    }

    private Decision rcpt(String client, String address, ConfigSnapshot c) {
        SessionFacts f = SessionFacts.builder(client, 40000).command("RCPT").helo("client.example")
                .sender("a@b.example").recipient(address).build();
        return engine.evaluateNow(RestrictionEngine.RECIPIENT, f, c);
    }

    private Decision rcpt(String address, ConfigSnapshot c) {
        return rcpt("192.0.2.7", address, c);
    }

    private Decision mail(String sender, ConfigSnapshot c) {
        SessionFacts f = SessionFacts.builder("192.0.2.7", 40000).command("MAIL").helo("client.example")
                .sender(sender).build();
        return engine.evaluateNow(RestrictionEngine.SENDER, f, c);
    }

    private static void assertReply(String expected, Decision d) {
        assertTrue(d.reply().isPresent(), () -> "no reply: " + d);
        assertEquals(expected, d.reply().get().toString());
    }

    private static void assertAccepted(Decision d) {
        assertTrue(!d.refused(), () -> "refused: " + d);
    }

    // ------------------------------------------------------------ local domains

    @Test
    void unknownLocalUserIsRejectedAndLogged() {
        Decision d = rcpt("nobody@mx.example.net", config());
        assertReply("550 5.1.1 <nobody@mx.example.net>: Recipient address rejected: User unknown in local recipient"
                + " table", d);
        assertEquals(Decision.Kind.REJECT, d.kind());
        assertEquals("NOQUEUE: reject: RCPT from unknown[192.0.2.7]: 550 5.1.1 <nobody@mx.example.net>: Recipient"
                + " address rejected: User unknown in local recipient table; from=<a@b.example>"
                + " to=<nobody@mx.example.net> proto=ESMTP helo=<client.example>", d.rejectLogLine().orElseThrow());
    }

    @Test
    void knownLocalUsersAliasesAndSpecialNamesAreAccepted() {
        tables.put("hash:/etc/aliases", "info", "root");
        for (String r : List.of("root@mx.example.net", "ROOT@MX.example.net", "info@localhost", "root@[127.0.0.1]",
                "postmaster@mx.example.net", "MAILER-DAEMON@mx.example.net", "double-bounce@mx.example.net")) {
            assertAccepted(rcpt(r, config()));
        }
    }

    @Test
    void keysAreTriedInPostfixOrderEachKeyInEveryTable() {
        rcpt("nobody@mx.example.net", config());
        // mail_addr_find: full address, local part (the domain is ours), @domain; nis: is skipped (no NIS domain)
        assertEquals(List.of("unix:passwd.byname nobody@mx.example.net", "hash:/etc/aliases nobody@mx.example.net",
                "unix:passwd.byname nobody", "hash:/etc/aliases nobody",
                "unix:passwd.byname @mx.example.net", "hash:/etc/aliases @mx.example.net"), tables.lookups);
    }

    @Test
    void recipientDelimiterExtensionsAreStripped() {
        ConfigSnapshot c = config("recipient_delimiter", "+");
        assertAccepted(rcpt("root+lists@mx.example.net", c));
        assertReply("550 5.1.1 <nobody+x@mx.example.net>: Recipient address rejected: User unknown in local recipient"
                + " table", rcpt("nobody+x@mx.example.net", c));
        // without a delimiter, root+lists is a user of its own
        assertEquals(Decision.Kind.REJECT, rcpt("root+lists@mx.example.net", config()).kind());
    }

    @Test
    void emptyLocalRecipientMapsDisableTheCheck() {
        assertAccepted(rcpt("nobody@mx.example.net", config("local_recipient_maps", "")));
        assertEquals(List.of(), tables.lookups);
    }

    @Test
    void replyCodeAndTableNameFollowTheirParameters() {
        assertReply("450 4.1.1 <nobody@mx.example.net>: Recipient address rejected: User unknown in local recipient"
                + " table", rcpt("nobody@mx.example.net", config("unknown_local_recipient_reject_code", "450")));
        assertReply("550 5.1.1 <nobody@mx.example.net>: Recipient address rejected: User unknown",
                rcpt("nobody@mx.example.net", config("show_user_unknown_table_name", "no")));
    }

    @Test
    void canonicalAndVirtualAliasEntriesMakeAnAddressKnown() {
        tables.put("hash:/etc/canonical", "joe@mx.example.net", "root");
        tables.put("hash:/etc/virtual", "@mx.example.net", "root");
        assertAccepted(rcpt("joe@mx.example.net", config("canonical_maps", "hash:/etc/canonical")));
        assertAccepted(rcpt("anyone@mx.example.net", config("virtual_alias_maps", "hash:/etc/virtual")));
    }

    @Test
    void noUnknownRecipientChecksTurnsValidationOff() {
        assertAccepted(rcpt("nobody@mx.example.net",
                config("receive_override_options", "no_unknown_recipient_checks")));
    }

    // ------------------------------------------------------------ virtual alias, virtual mailbox, relay domains

    @Test
    void virtualAliasDomainsKnowOnlyTheirAliases() {
        tables.put("hash:/etc/virtual", "info@alias.example", "root");
        tables.put("hash:/etc/virtual", "@catchall.example", "root");
        ConfigSnapshot c = config("virtual_alias_domains", "alias.example, catchall.example",
                "virtual_alias_maps", "hash:/etc/virtual");
        assertAccepted(rcpt("info@alias.example", c));
        assertAccepted(rcpt("anyone@catchall.example", c));
        assertReply("550 5.1.1 <nobody@alias.example>: Recipient address rejected: User unknown in virtual alias"
                + " table", rcpt("nobody@alias.example", c));
        // the local part alone is not a key outside our own domains
        assertEquals(Decision.Kind.REJECT, rcpt("root@alias.example", c).kind());
        assertReply("551 5.1.1 <nobody@alias.example>: Recipient address rejected: User unknown in virtual alias"
                + " table", rcpt("nobody@alias.example", config("virtual_alias_domains", "alias.example",
                        "virtual_alias_maps", "hash:/etc/virtual", "unknown_virtual_alias_reject_code", "551")));
    }

    @Test
    void virtualMailboxDomainsKnowTheirMailboxes() {
        tables.put("hash:/etc/vmailbox", "box@mbox.example", "mbox.example/box/");
        ConfigSnapshot c = config("virtual_mailbox_domains", "mbox.example", "virtual_mailbox_maps",
                "hash:/etc/vmailbox");
        assertAccepted(rcpt("box@mbox.example", c));
        assertReply("550 5.1.1 <nobody@mbox.example>: Recipient address rejected: User unknown in virtual mailbox"
                + " table", rcpt("nobody@mbox.example", c));
        assertAccepted(rcpt("nobody@mbox.example", config("virtual_mailbox_domains", "mbox.example")));
    }

    @Test
    void relayDomainsAreCheckedOnlyWithRelayRecipientMaps() {
        tables.put("hash:/etc/relay_recipients", "known@univ.es", "x");
        ConfigSnapshot c = config("relay_domains", "univ.es", "relay_recipient_maps", "hash:/etc/relay_recipients");
        assertAccepted(rcpt("known@univ.es", c));
        assertReply("550 5.1.1 <nobody@univ.es>: Recipient address rejected: User unknown in relay recipient table",
                rcpt("nobody@univ.es", c));
        assertAccepted(rcpt("nobody@univ.es", config("relay_domains", "univ.es")));
        // other destinations have no table at all
        assertAccepted(rcpt("127.0.0.1", "anyone@foreign.example", c));
    }

    // ------------------------------------------------------------ when: implicit, explicit, once

    @Test
    void theImplicitCheckFollowsAPermit() {
        // permit_mynetworks permits; the unknown user is rejected after all, as Postfix does
        assertEquals(Decision.Kind.REJECT, rcpt("127.0.0.1", "nobody@mx.example.net", config()).kind());
        assertEquals(Decision.Kind.OK, rcpt("127.0.0.1", "root@mx.example.net", config()).kind());
        assertAccepted(rcpt("127.0.0.1", "nobody@mx.example.net", config("smtpd_reject_unlisted_recipient", "no")));
    }

    @Test
    void theExplicitRestrictionRunsWhereItIsListed() {
        ConfigSnapshot explicit = config("smtpd_reject_unlisted_recipient", "no", "smtpd_recipient_restrictions",
                "reject_unlisted_recipient, permit_mynetworks, reject_unauth_destination");
        assertReply("550 5.1.1 <nobody@mx.example.net>: Recipient address rejected: User unknown in local recipient"
                + " table", rcpt("127.0.0.1", "nobody@mx.example.net", explicit));
        ConfigSnapshot afterPermit = config("smtpd_reject_unlisted_recipient", "no", "smtpd_recipient_restrictions",
                "permit_mynetworks, reject_unlisted_recipient, reject_unauth_destination");
        assertAccepted(rcpt("127.0.0.1", "nobody@mx.example.net", afterPermit));
        // its old name
        assertEquals(Decision.Kind.REJECT, rcpt("nobody@mx.example.net", config("smtpd_reject_unlisted_recipient",
                "no", "smtpd_recipient_restrictions", "check_recipient_maps, reject_unauth_destination")).kind());
    }

    @Test
    void theRecipientIsLookedUpOnceAndAWarningDoesNotCount() {
        ConfigSnapshot c = config("smtpd_recipient_restrictions",
                "reject_unlisted_recipient, permit_mynetworks, reject_unauth_destination");
        assertAccepted(rcpt("root@mx.example.net", c));
        // one pass of the keys (root is found by its local part), not a second one at the end
        assertEquals(List.of("unix:passwd.byname root@mx.example.net", "hash:/etc/aliases root@mx.example.net",
                "unix:passwd.byname root"), tables.lookups);
        // warn_if_reject only warns; the implicit check then rejects for real
        Decision d = rcpt("nobody@mx.example.net", config("smtpd_recipient_restrictions",
                "warn_if_reject, reject_unlisted_recipient, permit_mynetworks, reject_unauth_destination"));
        assertReply("550 5.1.1 <nobody@mx.example.net>: Recipient address rejected: User unknown in local recipient"
                + " table", d);
        assertTrue(d.logLines().get(0).startsWith("NOQUEUE: reject_warning: RCPT from unknown[192.0.2.7]: 550 5.1.1"),
                d.logLines().toString());
    }

    @Test
    void anEarlierRejectionWins() {
        ConfigSnapshot c = config("smtpd_recipient_restrictions", "reject_unauth_destination");
        assertReply("554 5.7.1 <nobody@foreign.example>: Relay access denied", rcpt("nobody@foreign.example", c));
    }

    // ------------------------------------------------------------ lookup failures

    @Test
    void aTableFailureIsATemporaryLookupFailure() {
        tables.failing.add("hash:/etc/aliases");
        Decision d = rcpt("nobody@mx.example.net", config());
        assertReply("451 4.3.0 <nobody@mx.example.net>: Temporary lookup failure", d);
        assertEquals(Decision.Kind.DEFER, d.kind());
        assertTrue(log.lines(Level.WARN).stream().anyMatch(l -> l.contains("hash:/etc/aliases lookup error for"
                + " \"nobody@mx.example.net\"")), log.lines().toString());
        // the same from the explicit restriction
        assertReply("451 4.3.0 <nobody@mx.example.net>: Temporary lookup failure", rcpt("nobody@mx.example.net",
                config("smtpd_recipient_restrictions", "reject_unlisted_recipient, reject_unauth_destination")));
        // a table that does not open is no different
        assertReply("451 4.3.0 <x@mx.example.net>: Temporary lookup failure",
                rcpt("x@mx.example.net", config("local_recipient_maps", "hash:/missing")));
    }

    // ------------------------------------------------------------ senders

    @Test
    void unlistedSendersAreRejectedOnlyWhenAsked() {
        assertAccepted(mail("nobody@mx.example.net", config()));
        assertReply("550 5.1.0 <nobody@mx.example.net>: Sender address rejected: User unknown in local recipient"
                + " table", mail("nobody@mx.example.net", config("smtpd_reject_unlisted_sender", "yes")));
        assertReply("550 5.1.0 <nobody@mx.example.net>: Sender address rejected: User unknown in local recipient"
                + " table", mail("nobody@mx.example.net", config("smtpd_sender_restrictions", "reject_unlisted_sender")));
        assertAccepted(mail("root@mx.example.net", config("smtpd_reject_unlisted_sender", "yes")));
        assertAccepted(mail("", config("smtpd_reject_unlisted_sender", "yes")));
        // a virtual alias domain's unknown sender: smtpd_dsn_fix turns 5.1.1 into 5.1.7 for senders
        assertReply("550 5.1.7 <nobody@alias.example>: Sender address rejected: User unknown in virtual alias table",
                mail("nobody@alias.example", config("smtpd_reject_unlisted_sender", "yes", "virtual_alias_domains",
                        "alias.example")));
    }
}
