package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.estafeta.testing.PySmtplib;
import org.junit.jupiter.api.Test;

/**
 * DNS-based restrictions against a real dnsmasq serving the records below: {@code reject_rbl_client},
 * {@code reject_rhsbl_sender}, {@code reject_unknown_helo_hostname}, {@code reject_unknown_client_hostname}.
 * Run against a private real Postfix in its own mount namespace whose /etc/resolv.conf names a dnsmasq on
 * 127.0.1.53:53 ({@link DnsRestrictionsPostfixIT}: glibc only speaks to port 53) and against the gateway pointed
 * at a dnsmasq on a high port with {@code estafeta_dns_servers} ({@link DnsRestrictionsEstafetaIT}); both
 * dnsmasq instances get the same {@link #RECORDS}. The expected replies are Postfix's.
 *
 * <p>Each client address plays one case; the restrictions are evaluated at RCPT time ({@code smtpd_delay_reject}),
 * in order, and the inputs are chosen so that only the restriction under test matches.
 */
abstract class DnsRestrictionScenarios {
    /** dnsmasq options: the zone data. 127.0.0.4 and 127.0.0.5 have forward-confirmed names; 127.0.0.3 has none. */
    static final List<String> RECORDS = List.of(
            "--local=/test/",
            "--local=/127.in-addr.arpa/",
            // rbl.test lists 127.0.0.2, with a TXT reason
            "--host-record=2.0.0.127.rbl.test,127.0.0.2",
            "--txt-record=2.0.0.127.rbl.test,listed in rbl.test",
            // dbl.test lists the domain spam.test
            "--host-record=spam.test.dbl.test,127.0.0.2",
            // clients with PTR and the matching A record
            "--host-record=host4.good.test,127.0.0.4",
            "--host-record=host5.good.test,127.0.0.5",
            // a HELO name that exists
            "--host-record=mail.good.test,192.0.2.25");

    static String mainCf(String dnsServer) {
        return String.join("\n",
                "# DnsRestrictions*IT: the same file for Postfix and Estafeta",
                "compatibility_level = 3.6",
                "myhostname = relay.univ.es",
                "mydomain = univ.es",
                "smtpd_banner = $myhostname ESMTP",
                "mynetworks = 127.0.0.1",
                "mydestination = $myhostname",
                "relay_domains = univ.es",
                "smtpd_recipient_restrictions =",
                "    reject_rbl_client rbl.test",
                "    reject_rhsbl_sender dbl.test",
                "    reject_unknown_helo_hostname",
                "    reject_unknown_client_hostname",
                "    reject_unauth_destination",
                "# Estafeta's resolver (Postfix warns that it does not know this parameter, and uses /etc/resolv.conf)",
                "estafeta_dns_servers = " + dnsServer,
                "");
    }

    static String masterCf(int port) {
        return "127.0.0.1:" + port + " inet n - n - - smtpd\n";
    }

    abstract int port();

    /** One session from {@code client}: EHLO {@code helo}, MAIL FROM {@code sender}, RCPT TO user@univ.es. */
    List<String> session(String client, String helo, String sender) throws Exception {
        return PySmtplib.run(port(), String.join("\n",
                "s = connect('" + client + "')",
                "s.ehlo('" + helo + "')",
                "show(*s.mail('" + sender + "'))",
                "show(*s.rcpt('user@univ.es'))",
                "show(*s.quit())"));
    }

    @Test
    void clientListedInAnRbl() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok",
                "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using rbl.test; listed in rbl.test",
                "221 2.0.0 Bye"), session("127.0.0.2", "mail.good.test", "a@good.test"));
    }

    @Test
    void senderDomainListedInAnRhsbl() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok",
                "554 5.7.1 Service unavailable; Sender address [x@spam.test] blocked using dbl.test",
                "221 2.0.0 Bye"), session("127.0.0.4", "mail.good.test", "x@spam.test"));
    }

    @Test
    void heloNameWithoutDnsRecords() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok",
                "450 4.7.1 <nothere.good.test>: Helo command rejected: Host not found",
                "221 2.0.0 Bye"), session("127.0.0.4", "nothere.good.test", "a@good.test"));
    }

    @Test
    void clientWithoutAName() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok",
                "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.3]",
                "221 2.0.0 Bye"), session("127.0.0.3", "mail.good.test", "a@good.test"));
    }

    @Test
    void clientThatPassesEveryCheck() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"),
                session("127.0.0.5", "mail.good.test", "a@good.test"));
    }
}
