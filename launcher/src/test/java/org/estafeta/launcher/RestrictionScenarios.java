package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.estafeta.testing.PySmtplib;
import org.estafeta.testing.SmtpClient;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;

/**
 * The access restrictions and error limits the other differential families leave out: {@code smtpd_helo_restrictions}
 * (new and old names, with {@code smtpd_delay_reject} yes and no), {@code smtpd_sender_restrictions} (non-FQDN and
 * unknown domains, against a real dnsmasq), {@code smtpd_recipient_restrictions} ({@code permit}, {@code reject},
 * {@code defer}, first match wins, {@code smtpd_restriction_classes}), {@code smtpd_data_restrictions}, and
 * {@code smtpd_soft_error_limit}, {@code smtpd_hard_error_limit}, {@code smtpd_junk_command_limit},
 * {@code smtpd_client_connection_count_limit}. Run against a private real Postfix 3.7 ({@link RestrictionsPostfixIT},
 * in a mount namespace whose /etc/resolv.conf names a dnsmasq on port 53) and against the gateway
 * ({@link RestrictionsEstafetaIT}, pointed at a dnsmasq on a high port with {@code estafeta_dns_servers}); both get
 * the same main.cf, the same master.cf and the same {@link #RECORDS}. The expected replies are Postfix's.
 *
 * <p>One instance serves every case: master.cf has one smtpd listener per {@link Profile}, at
 * {@code base + offset}, each with its own {@code -o} overrides of the shared main.cf (Estafeta applies
 * {@code -o} as Postfix does). Clients are swaks, Python's smtplib, and a raw socket where the exact order of
 * replies matters; 127.0.0.2 is outside {@code mynetworks}, 127.0.0.1 inside.
 */
abstract class RestrictionScenarios {
    static final String OUTSIDE = "127.0.0.2";
    static final String INSIDE = "127.0.0.1";

    /** dnsmasq options: the zone data both servers resolve against. */
    static final List<String> RECORDS = List.of(
            "--local=/test/",
            "--local=/univ.es/",
            "--local=/127.in-addr.arpa/",
            // a domain with an A record, and a host name in it (the good HELO name)
            "--host-record=good.test,192.0.2.26",
            "--host-record=mail.good.test,192.0.2.25",
            // a domain with only an MX record
            "--mx-host=mx-only.test,mail.good.test,10",
            // the relay domain of main.cf (reject_unknown_recipient_domain looks it up: Postfix is not its final destination)
            "--mx-host=univ.es,relay.univ.es,10");

    /** Listeners of master.cf: a port offset and the {@code -o} overrides of each. */
    enum Profile {
        /** smtpd_delay_reject = yes (the default): helo, sender and recipient checks, all decided at RCPT. */
        CHECKS(0),
        /** smtpd_delay_reject = no, the tutorial's old names of the HELO checks: rejected at HELO and MAIL. */
        NO_DELAY(10,
                "smtpd_delay_reject=no",
                "smtpd_helo_restrictions=reject_invalid_hostname,reject_non_fqdn_hostname"),
        /** permit_mynetworks before reject: the network decides. */
        PERMIT_FIRST(20,
                "smtpd_recipient_restrictions=permit_mynetworks,reject"),
        /** reject before permit_mynetworks: permit_mynetworks is never reached. */
        REJECT_FIRST(30,
                "smtpd_recipient_restrictions=reject,permit_mynetworks"),
        /** permit_mynetworks, defer: everyone outside is deferred. */
        DEFER(40,
                "smtpd_recipient_restrictions=permit_mynetworks,defer"),
        /** permit, reject: everyone is permitted, as far as the relay list (evaluated first) lets them. */
        PERMIT(50,
                "smtpd_recipient_restrictions=permit,reject"),
        /** a restriction class (main.cf: insiders_only = permit_mynetworks, reject) used as a restriction. */
        CLASS(60,
                "smtpd_recipient_restrictions=reject_non_fqdn_recipient,insiders_only"),
        /** smtpd_data_restrictions = reject. */
        DATA_REJECT(70,
                "smtpd_data_restrictions=reject"),
        /** smtpd_data_restrictions = reject_multi_recipient_bounce. */
        MULTI_RECIPIENT_BOUNCE(80,
                "smtpd_data_restrictions=reject_multi_recipient_bounce"),
        /** the same, with smtpd_forbid_unauth_pipelining = yes (Postfix 3.7's default is no; Estafeta's is yes). */
        MULTI_RECIPIENT_BOUNCE_NO_UNAUTH_PIPELINING(85,
                "smtpd_data_restrictions=reject_multi_recipient_bounce",
                "smtpd_forbid_unauth_pipelining=yes"),
        /** small error limits (no sleeping: main.cf's smtpd_error_sleep_time = 0); 512 is Postfix's least line_length_limit. */
        ERRORS(90,
                "smtpd_soft_error_limit=2",
                "smtpd_hard_error_limit=4",
                "smtpd_junk_command_limit=2",
                "line_length_limit=512"),
        /** one connection at a time per client outside mynetworks (smtpd_client_event_limit_exceptions). */
        ONE_CONNECTION(100,
                "smtpd_client_connection_count_limit=1"),
        /** access(5) tables as inline:{...} (main.cf's table_access class): client, sender, recipient checks. */
        ACCESS_TABLES(110,
                "smtpd_recipient_restrictions=table_access");

        final int offset;
        final List<String> overrides;

        Profile(int offset, String... overrides) {
            this.offset = offset;
            this.overrides = List.of(overrides);
        }
    }

    static String mainCf(String dnsServer) {
        return String.join("\n",
                "# Restrictions*IT: the same file for Postfix and Estafeta; master.cf's -o overrides make the profiles",
                "compatibility_level = 3.6",
                "myhostname = relay.univ.es",
                "mydomain = univ.es",
                "smtpd_banner = $myhostname ESMTP",
                "mynetworks = 127.0.0.1",
                "mydestination = $myhostname",
                "relay_domains = univ.es",
                "smtpd_error_sleep_time = 0",
                "smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
                "smtpd_sender_restrictions = reject_non_fqdn_sender, reject_unknown_sender_domain",
                "smtpd_recipient_restrictions =",
                "    reject_non_fqdn_recipient",
                "    reject_unknown_recipient_domain",
                "    permit_mynetworks",
                "    reject_unauth_destination",
                "smtpd_restriction_classes = insiders_only, table_access",
                "insiders_only = permit_mynetworks, reject",
                "# access(5) tables written inline (the inline: type; Estafeta's table-simple bundle)",
                "table_access =",
                "    check_client_access inline:{ 127.0.0.1=OK }",
                "    check_sender_access inline:{ {blocked@good.test = REJECT sender blocked here},",
                "        {slow@good.test = 450 4.7.1 try again later}, good.test=DUNNO, ok@mx-only.test=OK }",
                "    check_recipient_access inline:{ {nobody@univ.es = REJECT no such person},",
                "        {later@univ.es = 451 4.3.0 mailbox busy}, open@univ.es=OK }",
                "    reject",
                "# Estafeta's resolver (Postfix warns that it does not know this parameter, and uses /etc/resolv.conf)",
                "estafeta_dns_servers = " + dnsServer,
                "");
    }

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

    /** The base port of the server under test: {@link Profile#CHECKS} listens there. */
    abstract int basePort();

    int port(Profile p) {
        return basePort() + p.offset;
    }

    /** The replies to MAIL, RCPT and QUIT of a swaks session from {@code client} that stops after RCPT. */
    List<String> swaksRcpt(Profile p, String client, String helo, String from, String to) throws Exception {
        Swaks.Transcript t = Swaks.run(port(p), "--local-interface", client, "--ehlo", helo,
                "--from", from, "--to", to, "--quit-after", "RCPT");
        List<String> s = t.serverLines();
        return s.size() < 3 ? s : s.subList(s.size() - 3, s.size());
    }

    /** A smtplib session: {@code lines} of Python after {@code s = connect(client)}. */
    List<String> smtplib(Profile p, String client, String... lines) throws Exception {
        List<String> script = new ArrayList<>();
        script.add("s = connect('" + client + "')");
        script.addAll(List.of(lines));
        return PySmtplib.run(port(p), String.join("\n", script));
    }

    // ---- smtpd_helo_restrictions -----------------------------------------------------------------------------

    @Test
    void invalidHeloHostnameIsRejectedAtRcptWithSwaks() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "501 5.5.2 <bad..name>: Helo command rejected: Invalid name", "221 2.0.0 Bye"),
                swaksRcpt(Profile.CHECKS, OUTSIDE, "bad..name", "a@good.test", "user@univ.es"));
    }

    @Test
    void nonFqdnHeloHostnameIsRejectedAtRcptWithSwaks() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok",
                "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname", "221 2.0.0 Bye"),
                swaksRcpt(Profile.CHECKS, OUTSIDE, "client", "a@good.test", "user@univ.es"));
    }

    /**
     * The HELO checks do not look at mynetworks: the client inside is refused the same way. A new HELO resets the
     * transaction, so each case starts with MAIL.
     */
    @Test
    void heloChecksAtRcptWithSmtplib() throws Exception {
        assertEquals(List.of(
                "250 relay.univ.es",
                "250 2.1.0 Ok",
                "501 5.5.2 <bad_name!>: Helo command rejected: Invalid name",
                "250 relay.univ.es",
                "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname",
                "250 relay.univ.es",
                "250 2.1.5 Ok",
                "221 2.0.0 Bye"), smtplib(Profile.CHECKS, INSIDE,
                "show(*s.helo('bad_name!'))",
                "show(*s.mail('a@good.test'))",
                "show(*s.rcpt('user@univ.es'))",
                "show(*s.helo('client'))",
                "s.mail('a@good.test')",
                "show(*s.rcpt('user@univ.es'))",
                "show(*s.helo('mail.good.test'))",
                "s.mail('a@good.test')",
                "show(*s.rcpt('user@univ.es'))",
                "show(*s.quit())"));
    }

    /**
     * smtpd_delay_reject = no with the old names reject_invalid_hostname, reject_non_fqdn_hostname: HELO itself is
     * refused. (smtpd_helo_required is off, so MAIL without a HELO that passed is still accepted.)
     */
    @Test
    void heloChecksAtHeloWithoutDelayReject() throws Exception {
        assertEquals(List.of(
                "501 5.5.2 <bad..name>: Helo command rejected: Invalid name",
                "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname",
                "250 2.1.0 Ok",
                "250 relay.univ.es",
                "250 2.1.0 Ok",
                "250 2.1.5 Ok",
                "221 2.0.0 Bye"), smtplib(Profile.NO_DELAY, OUTSIDE,
                "show(*s.docmd('EHLO', 'bad..name'))",
                "show(*s.docmd('HELO', 'client'))",
                "show(*s.docmd('MAIL', 'FROM:<a@good.test>'))",
                "show(*s.helo('mail.good.test'))",
                "show(*s.mail('a@good.test'))",
                "show(*s.rcpt('user@univ.es'))",
                "show(*s.quit())"));
    }

    @Test
    void heloChecksAtHeloWithSwaks() throws Exception {
        Swaks.Transcript t = Swaks.run(port(Profile.NO_DELAY), "--local-interface", OUTSIDE, "--ehlo", "client",
                "--from", "a@good.test", "--to", "user@univ.es", "--quit-after", "RCPT");
        assertEquals(List.of("220 relay.univ.es ESMTP",
                "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname"),
                t.serverLines().subList(0, Math.min(2, t.serverLines().size())), t.result().output());
    }

    // ---- smtpd_sender_restrictions ---------------------------------------------------------------------------

    @Test
    void nonFqdnSenderIsRejectedAtRcptWithSwaks() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok",
                "504 5.5.2 <a@localhost>: Sender address rejected: need fully-qualified address", "221 2.0.0 Bye"),
                swaksRcpt(Profile.CHECKS, OUTSIDE, "mail.good.test", "a@localhost", "user@univ.es"));
    }

    @Test
    void unknownSenderDomainIsRejectedAtRcptWithSwaks() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok",
                "450 4.1.8 <a@nx.good.test>: Sender address rejected: Domain not found", "221 2.0.0 Bye"),
                swaksRcpt(Profile.CHECKS, OUTSIDE, "mail.good.test", "a@nx.good.test", "user@univ.es"));
    }

    /** A domain with an A record, one with only an MX, and the null sender pass; the sender checks ignore mynetworks. */
    @Test
    void senderChecksWithSmtplib() throws Exception {
        List<String> script = new ArrayList<>();
        script.add("s.ehlo('mail.good.test')");
        for (String sender : List.of("a@good.test", "a@mx-only.test", "", "a@nx.good.test", "a@localhost", "a@nx.example")) {
            script.add("show(*s.mail('" + sender + "'))");
            script.add("show(*s.rcpt('user@univ.es'))");
            script.add("s.rset()");
        }
        script.add("show(*s.quit())");
        assertEquals(List.of(
                "250 2.1.0 Ok", "250 2.1.5 Ok",
                "250 2.1.0 Ok", "250 2.1.5 Ok",
                "250 2.1.0 Ok", "250 2.1.5 Ok",
                "250 2.1.0 Ok", "450 4.1.8 <a@nx.good.test>: Sender address rejected: Domain not found",
                "250 2.1.0 Ok", "504 5.5.2 <a@localhost>: Sender address rejected: need fully-qualified address",
                "250 2.1.0 Ok", "450 4.1.8 <a@nx.example>: Sender address rejected: Domain not found",
                "221 2.0.0 Bye"), smtplib(Profile.CHECKS, INSIDE, script.toArray(String[]::new)));
    }

    /** smtpd_delay_reject = no: the sender checks answer MAIL itself. */
    @Test
    void senderChecksAtMailWithoutDelayReject() throws Exception {
        assertEquals(List.of(
                "504 5.5.2 <a@localhost>: Sender address rejected: need fully-qualified address",
                "450 4.1.8 <a@nx.good.test>: Sender address rejected: Domain not found",
                "250 2.1.0 Ok",
                "221 2.0.0 Bye"), smtplib(Profile.NO_DELAY, OUTSIDE,
                "s.ehlo('mail.good.test')",
                "show(*s.mail('a@localhost'))",
                "show(*s.mail('a@nx.good.test'))",
                "show(*s.mail('a@mx-only.test'))",
                "show(*s.quit())"));
    }

    // ---- smtpd_recipient_restrictions ------------------------------------------------------------------------

    /** reject_non_fqdn_recipient and reject_unknown_recipient_domain come before permit_mynetworks. */
    @Test
    void recipientChecksWithSmtplib() throws Exception {
        List<String> script = new ArrayList<>();
        script.add("s.ehlo('mail.good.test')");
        script.add("show(*s.mail('a@good.test'))");
        for (String rcpt : List.of("user@univ.es", "x@good.test", "x@mx-only.test", "x@localhost", "x@nx.good.test")) {
            script.add("show(*s.rcpt('" + rcpt + "'))");
        }
        script.add("show(*s.quit())");
        assertEquals(List.of(
                "250 2.1.0 Ok",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "504 5.5.2 <x@localhost>: Recipient address rejected: need fully-qualified address",
                "450 4.1.2 <x@nx.good.test>: Recipient address rejected: Domain not found",
                "221 2.0.0 Bye"), smtplib(Profile.CHECKS, INSIDE, script.toArray(String[]::new)));
    }

    @Test
    void unknownRecipientDomainWithSwaks() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok",
                "450 4.1.2 <x@nx.good.test>: Recipient address rejected: Domain not found", "221 2.0.0 Bye"),
                swaksRcpt(Profile.CHECKS, INSIDE, "mail.good.test", "a@good.test", "x@nx.good.test"));
    }

    /** permit_mynetworks, reject: the network decides. */
    @Test
    void permitMynetworksBeforeReject() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"),
                swaksRcpt(Profile.PERMIT_FIRST, INSIDE, "mail.good.test", "a@good.test", "user@univ.es"));
        assertEquals(List.of("250 2.1.0 Ok", "554 5.7.1 <user@univ.es>: Recipient address rejected: Access denied",
                "221 2.0.0 Bye"), swaksRcpt(Profile.PERMIT_FIRST, OUTSIDE, "mail.good.test", "a@good.test", "user@univ.es"));
    }

    /** reject, permit_mynetworks: the first match wins, permit_mynetworks is never reached. */
    @Test
    void rejectBeforePermitMynetworks() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "554 5.7.1 <user@univ.es>: Recipient address rejected: Access denied",
                "221 2.0.0 Bye"), swaksRcpt(Profile.REJECT_FIRST, INSIDE, "mail.good.test", "a@good.test", "user@univ.es"));
        assertEquals(List.of("250 2.1.0 Ok", "554 5.7.1 <user@univ.es>: Recipient address rejected: Access denied",
                "221 2.0.0 Bye"), swaksRcpt(Profile.REJECT_FIRST, OUTSIDE, "mail.good.test", "a@good.test", "user@univ.es"));
    }

    @Test
    void deferWithSmtplib() throws Exception {
        String[] session = {
                "s.ehlo('mail.good.test')",
                "show(*s.mail('a@good.test'))",
                "show(*s.rcpt('user@univ.es'))",
                "show(*s.quit())"};
        assertEquals(List.of("250 2.1.0 Ok", "450 4.3.2 <user@univ.es>: Recipient address rejected: Try again later",
                "221 2.0.0 Bye"), smtplib(Profile.DEFER, OUTSIDE, session));
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"), smtplib(Profile.DEFER, INSIDE, session));
    }

    /**
     * {@code permit} in smtpd_recipient_restrictions permits what the relay list (compatibility level 3.6's default
     * {@code permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination}, evaluated first) let through;
     * it cannot open the relay.
     */
    @Test
    void permitCannotOverrideTheRelayRestrictions() throws Exception {
        assertEquals(List.of(
                "250 2.1.0 Ok",
                "250 2.1.5 Ok",
                "454 4.7.1 <x@foreign.example>: Relay access denied",
                "221 2.0.0 Bye"), smtplib(Profile.PERMIT, OUTSIDE,
                "s.ehlo('mail.good.test')",
                "show(*s.mail('a@good.test'))",
                "show(*s.rcpt('user@univ.es'))",
                "show(*s.rcpt('x@foreign.example'))",
                "show(*s.quit())"));
    }

    /**
     * smtpd_restriction_classes: insiders_only = permit_mynetworks, reject, named in smtpd_recipient_restrictions.
     * From outside, the non-FQDN recipient is refused by the relay list first (compatibility level 3.6:
     * smtpd_relay_restrictions before smtpd_recipient_restrictions).
     */
    @Test
    void restrictionClass() throws Exception {
        String[] session = {
                "s.ehlo('mail.good.test')",
                "show(*s.mail('a@good.test'))",
                "show(*s.rcpt('x@localhost'))",
                "show(*s.rcpt('user@univ.es'))",
                "show(*s.quit())"};
        assertEquals(List.of("250 2.1.0 Ok",
                "454 4.7.1 <x@localhost>: Relay access denied",
                "554 5.7.1 <user@univ.es>: Recipient address rejected: Access denied",
                "221 2.0.0 Bye"), smtplib(Profile.CLASS, OUTSIDE, session));
        assertEquals(List.of("250 2.1.0 Ok",
                "504 5.5.2 <x@localhost>: Recipient address rejected: need fully-qualified address",
                "250 2.1.5 Ok",
                "221 2.0.0 Bye"), smtplib(Profile.CLASS, INSIDE, session));
    }

    // ---- access(5) tables: check_client_access, check_sender_access, check_recipient_access with inline: ------

    /**
     * From outside: the sender table rejects (5xx and 4xx texts), accepts ({@code OK} ends the restriction list) or
     * says {@code DUNNO} (the domain entry stops the lookups, the recipient table decides); then {@code reject}.
     */
    @Test
    void accessTablesFromOutside() throws Exception {
        assertEquals(List.of(
                "554 5.7.1 <blocked@good.test>: Sender address rejected: sender blocked here",
                "450 4.7.1 <slow@good.test>: Sender address rejected: try again later",
                "250 2.1.5 Ok",
                "554 5.7.1 <nobody@univ.es>: Recipient address rejected: no such person",
                "451 4.3.0 <later@univ.es>: Recipient address rejected: mailbox busy",
                "250 2.1.5 Ok",
                "554 5.7.1 <user@univ.es>: Recipient address rejected: Access denied",
                "221 2.0.0 Bye"), smtplib(Profile.ACCESS_TABLES, OUTSIDE,
                "s.ehlo('mail.good.test')",
                "s.mail('blocked@good.test')",
                "show(*s.rcpt('user@univ.es'))",
                "s.rset()",
                "s.mail('slow@good.test')",
                "show(*s.rcpt('user@univ.es'))",
                "s.rset()",
                "s.mail('ok@mx-only.test')",
                "show(*s.rcpt('user@univ.es'))",
                "s.rset()",
                "s.mail('a@good.test')",
                "show(*s.rcpt('nobody@univ.es'))",
                "show(*s.rcpt('later@univ.es'))",
                "show(*s.rcpt('open@univ.es'))",
                "show(*s.rcpt('user@univ.es'))",
                "show(*s.quit())"));
    }

    /** From inside: the client table's {@code OK} for 127.0.0.1 comes first, so neither sender nor recipient is refused. */
    @Test
    void accessTablesClientOkFromInside() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"),
                smtplib(Profile.ACCESS_TABLES, INSIDE,
                        "s.ehlo('mail.good.test')",
                        "show(*s.mail('blocked@good.test'))",
                        "show(*s.rcpt('nobody@univ.es'))",
                        "show(*s.rcpt('user@univ.es'))",
                        "show(*s.quit())"));
    }

    // ---- smtpd_data_restrictions -----------------------------------------------------------------------------

    @Test
    void dataRejectWithSwaks() throws Exception {
        Swaks.Transcript t = Swaks.run(port(Profile.DATA_REJECT), "--local-interface", INSIDE, "--ehlo", "mail.good.test",
                "--from", "a@good.test", "--to", "user@univ.es", "--body", "hello");
        List<String> s = t.serverLines();
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "554 5.7.1 <DATA>: Data command rejected: Access denied",
                "221 2.0.0 Bye"), s.subList(Math.max(0, s.size() - 4), s.size()), t.result().output());
    }

    /**
     * Pipelined in one write as RFC 2920 allows (DATA last in the group): the replies come in order, and DATA is
     * refused without a 354.
     */
    @Test
    void multiRecipientBounceIsRejectedAtDataPipelined() throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(Profile.MULTI_RECIPIENT_BOUNCE), OUTSIDE)) {
            c.reply();
            c.command("EHLO mail.good.test");
            c.send("MAIL FROM:<>\r\nRCPT TO:<a@univ.es>\r\nRCPT TO:<b@univ.es>\r\nDATA\r\n");
            assertEquals(List.of(
                    "250 2.1.0 Ok",
                    "250 2.1.5 Ok",
                    "250 2.1.5 Ok",
                    "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce"), c.replies(4));
            assertEquals(List.of("221 2.0.0 Bye"), c.command("QUIT"));
        }
    }

    /**
     * QUIT pipelined after DATA, which RFC 2920 does not allow (DATA must end a group), with
     * smtpd_forbid_unauth_pipelining = yes: the replies so far, then 554 and hang-up instead of running DATA.
     */
    @Test
    void commandAfterDataInThePipelineWithUnauthPipeliningForbidden() throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(Profile.MULTI_RECIPIENT_BOUNCE_NO_UNAUTH_PIPELINING), OUTSIDE)) {
            c.reply();
            c.command("EHLO mail.good.test");
            c.send("MAIL FROM:<>\r\nRCPT TO:<a@univ.es>\r\nRCPT TO:<b@univ.es>\r\nDATA\r\nQUIT\r\n");
            List<String> replies = new ArrayList<>();
            try {
                while (true) {
                    replies.addAll(c.reply());
                }
            } catch (java.io.IOException closed) {
                // the server hung up
            }
            assertEquals(List.of(
                    "250 2.1.0 Ok",
                    "250 2.1.5 Ok",
                    "250 2.1.5 Ok",
                    "554 5.5.0 Error: SMTP protocol synchronization"), replies);
        }
    }

    @Test
    void multiRecipientBounceWithSmtplib() throws Exception {
        assertEquals(List.of(
                "250 2.1.0 Ok",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce",
                "221 2.0.0 Bye"), smtplib(Profile.MULTI_RECIPIENT_BOUNCE, INSIDE,
                "s.ehlo('mail.good.test')",
                "show(*s.mail('<>'))",
                "show(*s.rcpt('a@univ.es'))",
                "show(*s.rcpt('b@univ.es'))",
                "show(*s.docmd('DATA'))",
                "show(*s.quit())"));
    }

    // ---- error limits ----------------------------------------------------------------------------------------

    /** smtpd_hard_error_limit = 4: after the fourth error reply the server says 421 unasked, and hangs up. */
    @Test
    void hardErrorLimit() throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(Profile.ERRORS), OUTSIDE)) {
            assertEquals(List.of("220 relay.univ.es ESMTP"), c.reply());
            assertEquals("250 relay.univ.es", c.command("HELO mail.good.test").get(0));
            assertEquals(List.of("500 5.5.2 Error: command not recognized"), c.command("FOO"));
            assertEquals(List.of("503 5.5.1 Error: need MAIL command"), c.command("RCPT TO:<a@univ.es>"));
            assertEquals(List.of("501 5.5.4 Syntax: MAIL FROM:<address>"), c.command("MAIL"));
            assertEquals(List.of("500 5.5.2 Error: bad syntax"), c.command(""));
            assertEquals(List.of("421 4.7.0 relay.univ.es Error: too many errors"), c.reply());
            assertTrue(c.closedByServer());
        }
    }

    /** Refused recipients are errors too; smtplib reads the unasked 421 as the answer to its next command. */
    @Test
    void hardErrorLimitWithSmtplib() throws Exception {
        assertEquals(List.of(
                "250 2.1.0 Ok",
                "454 4.7.1 <x@foreign.example>: Relay access denied",
                "454 4.7.1 <x@foreign.example>: Relay access denied",
                "454 4.7.1 <x@foreign.example>: Relay access denied",
                "454 4.7.1 <x@foreign.example>: Relay access denied",
                "421 4.7.0 relay.univ.es Error: too many errors",
                "disconnected"), smtplib(Profile.ERRORS, OUTSIDE,
                "s.ehlo('mail.good.test')",
                "show(*s.mail('a@good.test'))",
                "for i in range(4):",
                "    show(*s.rcpt('x@foreign.example'))",
                "show(*s.noop())",
                "try:",
                "    s.noop()",
                "except smtplib.SMTPServerDisconnected:",
                "    print('disconnected')"));
    }

    /**
     * smtpd_junk_command_limit = 2: NOOP, RSET, VRFY, ETRN (and HELO/EHLO) beyond the limit count as errors, though
     * each still gets its normal reply; at the hard limit (4) comes the 421.
     */
    @Test
    void junkCommandLimit() throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(Profile.ERRORS), OUTSIDE)) {
            c.reply();
            List<String> replies = new ArrayList<>();
            replies.add(c.command("HELO mail.good.test").get(0));
            for (int i = 0; i < 6; i++) {
                replies.add(c.command(i % 2 == 0 ? "NOOP" : "RSET").get(0));
            }
            replies.addAll(c.reply());
            assertEquals(List.of(
                    "250 relay.univ.es",
                    "250 2.0.0 Ok",
                    "250 2.0.0 Ok",
                    "250 2.0.0 Ok",
                    "250 2.0.0 Ok",
                    "250 2.0.0 Ok",
                    "250 2.0.0 Ok",
                    "421 4.7.0 relay.univ.es Error: too many errors"), replies);
            assertTrue(c.closedByServer());
        }
    }

    // ---- smtpd_client_connection_count_limit -----------------------------------------------------------------

    @Test
    void connectionCountLimitFromOutside() throws Exception {
        try (SmtpClient first = SmtpClient.connect(port(Profile.ONE_CONNECTION), OUTSIDE)) {
            assertEquals(List.of("220 relay.univ.es ESMTP"), first.reply());
            try (SmtpClient second = SmtpClient.connect(port(Profile.ONE_CONNECTION), OUTSIDE)) {
                assertEquals(List.of("421 4.7.0 relay.univ.es Error: too many connections from 127.0.0.2"), second.reply());
                assertTrue(second.closedByServer());
            }
            // mynetworks is exempt (smtpd_client_event_limit_exceptions = $mynetworks)
            try (SmtpClient inside1 = SmtpClient.connect(port(Profile.ONE_CONNECTION), INSIDE);
                    SmtpClient inside2 = SmtpClient.connect(port(Profile.ONE_CONNECTION), INSIDE)) {
                assertEquals(List.of("220 relay.univ.es ESMTP"), inside1.reply());
                assertEquals(List.of("220 relay.univ.es ESMTP"), inside2.reply());
            }
            assertEquals(List.of("250 2.0.0 Ok"), first.command("NOOP"));
        }
    }

    // ---- line_length_limit -----------------------------------------------------------------------------------

    /**
     * An overlong command (line_length_limit = 512, its minimum in Postfix) followed by NOOP, in one write. Postfix 3.7 and Estafeta answer
     * it differently on purpose (docs/compatibility.md): each subclass asserts its own side.
     */
    List<String> overlongCommand() throws Exception {
        try (SmtpClient c = SmtpClient.connect(port(Profile.ERRORS), OUTSIDE)) {
            c.reply();
            c.command("HELO mail.good.test");
            c.send("NOOP " + "x".repeat(600) + "\r\nQUIT\r\n");
            List<String> replies = new ArrayList<>();
            try {
                while (true) {
                    replies.addAll(c.reply());
                }
            } catch (java.io.IOException closed) {
                return replies;
            }
        }
    }
}
