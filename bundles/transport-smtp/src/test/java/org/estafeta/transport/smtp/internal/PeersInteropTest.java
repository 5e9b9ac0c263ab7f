package org.estafeta.transport.smtp.internal;

import static org.estafeta.transport.smtp.internal.Fixtures.context;
import static org.estafeta.transport.smtp.internal.Fixtures.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.dns.DnsResolver;
import org.estafeta.dns.internal.TestResolvers;
import org.estafeta.testing.Dnsmasq;
import org.estafeta.testing.PrivatePostfix;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.Test;

/** MX routing through a real dnsmasq and the dns bundle's resolver; delivery to a real Postfix smtpd. */
class PeersInteropTest {
    private final RecordingLogger log = new RecordingLogger("smtp");

    @Test
    void mxRoutingThroughDnsmasq() throws Exception {
        Dnsmasq.require();
        try (ScriptedServer backup = new ScriptedServer("127.0.0.1", p -> p.serve("220 backup ESMTP",
                List.of("PIPELINING"), null));
                Dnsmasq dns = Dnsmasq.builder().local("test")
                        .mxHost("mx.test", "primary.mx.test", 10).mxHost("mx.test", "backup.mx.test", 20)
                        .hostRecord("primary.mx.test", "127.0.0.2").hostRecord("backup.mx.test", "127.0.0.1")
                        .start()) {
            DnsResolver resolver = TestResolvers.start(dns.server());
            SmtpClient smtp = new SmtpClient(false, resolver, log);
            try {
                List<RecipientResult> r = smtp.deliver(request("mx.test:" + backup.port(), "a@mx.test"),
                        context("inet_protocols", "ipv4"));
                assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + log.lines());
                assertEquals("backup.mx.test[127.0.0.1]:" + backup.port(), r.get(0).relay());
                assertTrue(log.lines().contains("INFO connect to primary.mx.test[127.0.0.2]:" + backup.port()
                        + ": Connection refused"), log.lines().toString());

                List<RecipientResult> nx = smtp.deliver(request("nothing.test", "a@nothing.test"),
                        context("inet_protocols", "ipv4"));
                assertEquals(new Reply(550, "5.4.4", "Host or domain name not found. Name service error for "
                        + "name=nothing.test type=A: Host not found"), nx.get(0).reply());
                assertEquals(Status.BOUNCED, nx.get(0).status());
            } finally {
                smtp.close();
                TestResolvers.stop(resolver);
            }
        }
    }

    @Test
    void realPostfixSmtpd() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        int port = ScriptedServer.freePort();
        try (PrivatePostfix pf = PrivatePostfix.builder("transport-smtp")
                .mainCf("compatibility_level = 3.6\nmyhostname = postfix.test\nmydestination = localhost\n"
                        + "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
                        + "message_size_limit = 2000\n")
                .masterCf("127.0.0.1:" + port + " inet n - n - - smtpd\n").start()) {
            SmtpClient smtp = new SmtpClient(false, new Fixtures.MapResolver(), log);
            try {
                List<RecipientResult> r = smtp.deliver(request("[127.0.0.1]:" + port, "root@localhost",
                        "nobody-here@localhost"), context());
                String relay = "127.0.0.1[127.0.0.1]:" + port;
                assertEquals(Status.DELIVERED, r.get(0).status(), r + "\n" + pf.maillog());
                assertTrue(r.get(0).reply().text().matches("250 2\\.0\\.0 Ok: queued as \\w+"), r.toString());
                assertEquals(relay, r.get(0).relay());
                assertEquals(new Reply(550, "5.1.1", "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 "
                        + "<nobody-here@localhost>: Recipient address rejected: User unknown in local recipient "
                        + "table (in reply to RCPT TO command)"), r.get(1).reply());
                assertEquals(Status.BOUNCED, r.get(1).status());

                String big = Fixtures.MESSAGE + "x".repeat(3000) + "\r\n";
                List<RecipientResult> tooBig = smtp.deliver(request("[127.0.0.1]:" + port,
                        Fixtures.content(big), java.util.Map.of(), java.util.Map.of(), "root@localhost"), context());
                assertEquals(new Reply(550, "5.3.4", "message size " + big.length()
                        + " exceeds size limit 2000 of server 127.0.0.1[127.0.0.1]"), tooBig.get(0).reply());
            } finally {
                smtp.close();
            }
        }
    }
}
