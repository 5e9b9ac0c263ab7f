package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import org.estafeta.testing.PySmtplib;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;

/**
 * The first-level relay of the tutorial, section 2.1 ({@code spec/postfix-2.0-tutorial-es.md}), with its main.cf
 * parameters verbatim; only the transport table's path is the instance's own. Run against a private real Postfix
 * ({@link RelayTutorialPostfixIT}) and against the gateway ({@link RelayTutorialEstafetaIT}) with the same files
 * and sessions; the expected replies are Postfix's (see {@link SmtpdProtocolScenarios} on how this makes the
 * Estafeta run a differential test).
 *
 * <p>The tutorial's file has no {@code compatibility_level} (it was written for Postfix 2.0), so Postfix 3.7 runs
 * with its backwards-compatible defaults, among them an empty {@code smtpd_relay_restrictions}: the refusal comes
 * from {@code smtpd_recipient_restrictions} and is {@code 554 5.7.1}, as the tutorial says. (With
 * {@code compatibility_level = 3.6} the default {@code smtpd_relay_restrictions} would answer first, with
 * {@code 454 4.7.1}; {@link SmtpdProtocolScenarios#pipelinedTransaction} shows that case.)
 *
 * <p>A client bound to 127.0.0.2 is outside {@code mynetworks = 127.0.0.1 192.168.0.0/16}; 127.0.0.1 is inside.
 */
abstract class RelayTutorialScenarios {
    /** Section 2.1 verbatim, except {@code TRANSPORT}: the path of the transport table. */
    static final String MAIN_CF_TEMPLATE = String.join("\n",
            "# RelayTutorial*IT: tutorial section 2.1, the same file for Postfix and Estafeta",
            "# NOMBRE, DOMINIO y SMARHOST",
            "myhostname = relay.univ.es",
            "mydomain = univ.es",
            "#relay =",
            "",
            "# OTROS PARAMETROS DE CONFIGURACION",
            "transport_maps = hash:TRANSPORT",
            "disable_dns_lookups = no",
            "#relayhost = [$relay]",
            "",
            "# CONTROL DE CORREO ENTRANTE / SALIENTE",
            "mynetworks = 127.0.0.1 192.168.0.0/16",
            "mydestination = $myhostname localhost.$mydomain",
            "relay_domains = $mydomain",
            "smtpd_recipient_restrictions = permit_mynetworks reject_unauth_destination",
            "");

    /** The tutorial's transport table. */
    static final String TRANSPORT = String.join("\n",
            "# TRAFICO LOCAL ...",
            "relay.univ.es      local:",
            "localhost.univ.es local:",
            "",
            "# TRAFICO INTERNO ...",
            "univ.es           smtp:[smtp.univ.es]",
            "depart1.univ.es   smtp:[smtp.depart1.univ.es]",
            ".depart1.univ.es  smtp:[smtp.depart1.univ.es]",
            "depart2.univ.es   smtp:[smtp.depart2.univ.es]",
            ".depart2.univ.es  smtp:[smtp.depart2.univ.es]",
            "");

    static final String OUTSIDE = "127.0.0.2";
    static final String INSIDE = "127.0.0.1";

    static String mainCf(Path transportTable) {
        return MAIN_CF_TEMPLATE.replace("TRANSPORT", transportTable.toString());
    }

    static String masterCf(int port) {
        return "127.0.0.1:" + port + " inet n - n - - smtpd\n";
    }

    abstract int port();

    /** The reply to RCPT TO:{@code rcpt} in a swaks session from {@code client} that stops after RCPT. */
    List<String> rcptWithSwaks(String client, String rcpt) throws Exception {
        Swaks.Transcript t = Swaks.run(port(), "--local-interface", client, "--ehlo", "client.example",
                "--from", "sender@client.example", "--to", rcpt, "--quit-after", "RCPT");
        List<String> s = t.serverLines();
        // 220, the EHLO reply (several lines), MAIL, RCPT, QUIT: the last three
        return s.size() < 3 ? s : s.subList(s.size() - 3, s.size());
    }

    @Test
    void foreignDomainFromOutsideIsRelayAccessDenied() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "554 5.7.1 <x@foreign.example>: Relay access denied", "221 2.0.0 Bye"),
                rcptWithSwaks(OUTSIDE, "x@foreign.example"));
    }

    @Test
    void relayDomainFromOutsideIsAccepted() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"), rcptWithSwaks(OUTSIDE, "user@univ.es"));
    }

    @Test
    void subdomainOfARelayDomainFromOutsideIsAccepted() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"), rcptWithSwaks(OUTSIDE, "user@depart1.univ.es"));
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"), rcptWithSwaks(OUTSIDE, "user@lab.depart2.univ.es"));
    }

    /** root: a local user Postfix knows from passwd; postmaster: from the aliases. */
    @Test
    void mydestinationFromOutsideIsAccepted() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"), rcptWithSwaks(OUTSIDE, "root@relay.univ.es"));
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"), rcptWithSwaks(OUTSIDE, "postmaster@localhost.univ.es"));
    }

    @Test
    void lookalikeDomainsFromOutsideAreRelayAccessDenied() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "554 5.7.1 <x@univ.es.foreign.example>: Relay access denied", "221 2.0.0 Bye"),
                rcptWithSwaks(OUTSIDE, "x@univ.es.foreign.example"));
        assertEquals(List.of("250 2.1.0 Ok", "554 5.7.1 <x@notuniv.es>: Relay access denied", "221 2.0.0 Bye"),
                rcptWithSwaks(OUTSIDE, "x@notuniv.es"));
    }

    @Test
    void foreignDomainFromInsideIsRelayed() throws Exception {
        assertEquals(List.of("250 2.1.0 Ok", "250 2.1.5 Ok", "221 2.0.0 Bye"), rcptWithSwaks(INSIDE, "x@foreign.example"));
    }

    /** The same decisions seen by Python's smtplib, in one session per client address. */
    @Test
    void relayDecisionsWithSmtplib() throws Exception {
        String script = String.join("\n",
                "for src in ['" + OUTSIDE + "', '" + INSIDE + "']:",
                "    s = connect(src)",
                "    s.ehlo('client.example')",
                "    show(*s.mail('sender@client.example'))",
                "    for r in ['x@foreign.example', 'user@univ.es', 'user@depart1.univ.es', 'root@relay.univ.es']:",
                "        show(*s.rcpt(r))",
                "    show(*s.quit())");
        assertEquals(List.of(
                "250 2.1.0 Ok",
                "554 5.7.1 <x@foreign.example>: Relay access denied",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "221 2.0.0 Bye",
                "250 2.1.0 Ok",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "250 2.1.5 Ok",
                "221 2.0.0 Bye"), PySmtplib.run(port(), script));
    }
}
