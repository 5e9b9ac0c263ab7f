package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.estafeta.testing.PySmtplib;
import org.junit.jupiter.api.Test;

/**
 * Recipient validation at RCPT time (smtpd_check.c's check_rcpt_maps): {@code local_recipient_maps} with
 * {@code unix:passwd.byname} and the aliases, {@code virtual_alias_maps}, {@code virtual_mailbox_maps},
 * {@code relay_recipient_maps}; the implicit check after a permit ({@code smtpd_reject_unlisted_recipient}), the
 * explicit {@code reject_unlisted_recipient}, an empty {@code local_recipient_maps}, and
 * {@code smtpd_reject_unlisted_sender}. Run against a private real Postfix 3.7 ({@link UnlistedRecipientPostfixIT})
 * and the gateway ({@link UnlistedRecipientEstafetaIT}) with the same main.cf and master.cf; the expected replies
 * are Postfix's. The client is Python's smtplib; 127.0.0.2 is outside {@code mynetworks}, 127.0.0.1 inside.
 */
abstract class UnlistedRecipientScenarios {
    static final String OUTSIDE = "127.0.0.2";
    static final String INSIDE = "127.0.0.1";

    /** Listeners of master.cf: a port offset and the {@code -o} overrides of each. */
    enum Profile {
        /** main.cf as it is: the implicit check after the recipient restrictions. */
        DEFAULT(0),
        /** only the explicit restriction, before permit_mynetworks. */
        EXPLICIT(1,
                "smtpd_reject_unlisted_recipient=no",
                "smtpd_recipient_restrictions=reject_unlisted_recipient,permit_mynetworks,reject_unauth_destination"),
        /** no check at all. */
        OFF(2,
                "smtpd_reject_unlisted_recipient=no"),
        /** an empty local_recipient_maps: local users are not checked, the other classes are. */
        NO_LOCAL_MAPS(3,
                "local_recipient_maps="),
        /** senders are checked too. */
        SENDER(4,
                "smtpd_reject_unlisted_sender=yes");

        final int offset;
        final List<String> overrides;

        Profile(int offset, String... overrides) {
            this.offset = offset;
            this.overrides = List.of(overrides);
        }
    }

    static final String MAIN_CF = String.join("\n",
            "# UnlistedRecipient*IT: the same file for Postfix and Estafeta; master.cf's -o overrides make the profiles",
            "compatibility_level = 3.6",
            "myhostname = mx.unlisted.test",
            "mydomain = unlisted.test",
            "smtpd_banner = $myhostname ESMTP",
            "mynetworks = 127.0.0.1",
            "mydestination = $myhostname",
            "smtpd_error_sleep_time = 0",
            "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination",
            "# the tutorial's form (section 1.2); the aliases written inline so that both read the same table",
            "alias_maps = inline:{ info=root }",
            "local_recipient_maps = $alias_maps unix:passwd.byname",
            "virtual_alias_domains = valias.test",
            "virtual_alias_maps = inline:{ known@valias.test=root }",
            "virtual_mailbox_domains = vbox.test",
            "virtual_mailbox_maps = inline:{ box@vbox.test=vbox.test/box/ }",
            "relay_domains = relay.test",
            "relay_recipient_maps = inline:{ known@relay.test=x }",
            "");

    /** One smtpd listener per profile, at {@code base + offset}. */
    static String masterCf(int base) {
        StringBuilder sb = new StringBuilder();
        for (Profile p : Profile.values()) {
            sb.append("127.0.0.1:").append(base + p.offset).append(" inet n - n - - smtpd\n");
            for (String o : p.overrides) {
                sb.append("  -o ").append(o).append('\n');
            }
        }
        return sb.toString();
    }

    /** The base port of the server under test: {@link Profile#DEFAULT} listens there. */
    abstract int basePort();

    /** The replies to RCPT TO each of {@code recipients}, in one transaction from {@code client} as {@code sender}. */
    List<String> rcpts(Profile p, String client, String sender, String... recipients) throws Exception {
        List<String> script = new ArrayList<>(List.of("s = connect('" + client + "')", "s.ehlo('client.test')",
                "s.mail('" + sender + "')"));
        for (String r : recipients) {
            script.add("show(*s.rcpt('" + r + "'))");
        }
        script.add("s.quit()");
        return PySmtplib.run(basePort() + p.offset, String.join("\n", script));
    }

    static String unknown(String address, String table) {
        return "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown in " + table + " table";
    }

    @Test
    void localUsersAndAliasesAreKnownOthersAreRejected() throws Exception {
        assertEquals(List.of("250 2.1.5 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
                unknown("nosuchuser@mx.unlisted.test", "local recipient")),
                rcpts(Profile.DEFAULT, OUTSIDE, "a@client.test", "root@mx.unlisted.test", "ROOT@MX.unlisted.test",
                        "info@mx.unlisted.test", "postmaster@mx.unlisted.test", "nosuchuser@mx.unlisted.test"));
    }

    @Test
    void virtualAliasVirtualMailboxAndRelayDomainsHaveTheirTables() throws Exception {
        assertEquals(List.of("250 2.1.5 Ok", unknown("nobody@valias.test", "virtual alias"),
                "250 2.1.5 Ok", unknown("nobody@vbox.test", "virtual mailbox"),
                "250 2.1.5 Ok", unknown("nobody@relay.test", "relay recipient"),
                unknown("root@valias.test", "virtual alias")),
                rcpts(Profile.DEFAULT, OUTSIDE, "a@client.test", "known@valias.test", "nobody@valias.test",
                        "box@vbox.test", "nobody@vbox.test", "known@relay.test", "nobody@relay.test",
                        "root@valias.test"));
    }

    /** permit_mynetworks permits, and the implicit reject_unlisted_recipient still rejects. */
    @Test
    void theImplicitCheckFollowsAPermit() throws Exception {
        assertEquals(List.of(unknown("nosuchuser@mx.unlisted.test", "local recipient"), "250 2.1.5 Ok"),
                rcpts(Profile.DEFAULT, INSIDE, "a@client.test", "nosuchuser@mx.unlisted.test", "nobody@elsewhere.test"));
    }

    @Test
    void theExplicitRestrictionRejectsWhereItStands() throws Exception {
        assertEquals(List.of(unknown("nosuchuser@mx.unlisted.test", "local recipient"), "250 2.1.5 Ok"),
                rcpts(Profile.EXPLICIT, INSIDE, "a@client.test", "nosuchuser@mx.unlisted.test", "root@mx.unlisted.test"));
    }

    @Test
    void withoutTheCheckUnknownUsersAreAccepted() throws Exception {
        assertEquals(List.of("250 2.1.5 Ok", "250 2.1.5 Ok"),
                rcpts(Profile.OFF, OUTSIDE, "a@client.test", "nosuchuser@mx.unlisted.test", "nobody@valias.test"));
    }

    @Test
    void anEmptyLocalRecipientMapsChecksOnlyTheOtherClasses() throws Exception {
        assertEquals(List.of("250 2.1.5 Ok", unknown("nobody@vbox.test", "virtual mailbox")),
                rcpts(Profile.NO_LOCAL_MAPS, OUTSIDE, "a@client.test", "nosuchuser@mx.unlisted.test", "nobody@vbox.test"));
    }

    @Test
    void unlistedSendersAreRejectedAtRcpt() throws Exception {
        assertEquals(List.of("550 5.1.0 <nosuchuser@mx.unlisted.test>: Sender address rejected: User unknown in local"
                + " recipient table"),
                rcpts(Profile.SENDER, OUTSIDE, "nosuchuser@mx.unlisted.test", "root@mx.unlisted.test"));
        assertEquals(List.of("250 2.1.5 Ok"),
                rcpts(Profile.SENDER, OUTSIDE, "root@mx.unlisted.test", "root@mx.unlisted.test"));
        assertEquals(List.of("250 2.1.5 Ok"), rcpts(Profile.DEFAULT, OUTSIDE, "nosuchuser@mx.unlisted.test",
                "root@mx.unlisted.test"));
    }
}
