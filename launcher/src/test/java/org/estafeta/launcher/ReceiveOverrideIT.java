package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code receive_override_options} per master.cf service, as tutorial sections 6.2 and 6.3 use it on the content
 * filter's reinjection listener: the public smtpd applies header_checks and virtual aliases; the listener with
 * {@code -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks} skips the checks, the one with
 * {@code no_address_mappings} the aliases. Delivery is real, to Postfix's smtp-sink.
 */
class ReceiveOverrideIT {
    static final int PUBLIC_PORT = 28564;
    static final int REINJECT_PORT = 28565;
    static final int NO_MAPPINGS_PORT = 28566;
    static final int SINK_PORT = 28567;

    @TempDir
    Path tmp;

    @Test
    void theReinjectionListenerSkipsWhatItsOverridesSay() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Files.writeString(conf.resolve("header_checks"), "/^Subject: forbidden/ REJECT not here\n");
        try (SmtpSink sink = SmtpSink.start(tmp, "sink", SINK_PORT)) {
            Gateway gw = EstafetaTarget.start(tmp, String.join("\n",
                    "compatibility_level = 3.6",
                    "myhostname = gw.estafeta.test",
                    "mydestination =",
                    "mynetworks = 127.0.0.0/8",
                    "relayhost = [127.0.0.1]:" + SINK_PORT,
                    "header_checks = regexp:" + conf.resolve("header_checks"),
                    "virtual_alias_maps = inline:{ alias@one.example=real@two.example }",
                    ""), String.join("\n",
                    "127.0.0.1:" + PUBLIC_PORT + " inet n - n - - smtpd",
                    "127.0.0.1:" + REINJECT_PORT + " inet n - n - - smtpd",
                    "    -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks",
                    "127.0.0.1:" + NO_MAPPINGS_PORT + " inet n - n - - smtpd",
                    "    -o receive_override_options=no_address_mappings",
                    "qmgr      unix  n       -       n       300     1       qmgr",
                    "smtp      unix  -       -       n       -       -       smtp",
                    ""));
            try {
                EstafetaTarget.awaitListener(PUBLIC_PORT);
                EstafetaTarget.awaitListener(REINJECT_PORT);
                EstafetaTarget.awaitListener(NO_MAPPINGS_PORT);
                Swaks.Transcript refused = Swaks.run(PUBLIC_PORT, "--from", "s@client.example", "--to",
                        "x@one.example", "--header", "Subject: forbidden fruit");
                assertEquals("550 5.7.1 not here", refused.last("550"), refused.serverLines().toString());

                String reinjected = HeaderActionsIT.queued(Swaks.run(REINJECT_PORT, "--from", "s@client.example",
                        "--to", "x@one.example", "--header", "Subject: forbidden fruit"));
                String aliased = HeaderActionsIT.queued(Swaks.run(PUBLIC_PORT, "--from", "s@client.example",
                        "--to", "alias@one.example", "--header", "Subject: mapped"));
                String unmapped = HeaderActionsIT.queued(Swaks.run(NO_MAPPINGS_PORT, "--from", "s@client.example",
                        "--to", "alias@one.example", "--header", "Subject: not mapped"));
                assertTrue(ItSupport.waitFor(() -> sink.recipients().size() >= 3, 60),
                        "not all delivered: " + sink.deliveries() + "\n" + ItSupport.maillog(gw));
                assertEquals(List.of("alias@one.example", "real@two.example", "x@one.example"), sink.recipients(),
                        ItSupport.maillog(gw));
                assertTrue(sink.messageFor("x@one.example").contains("Subject: forbidden fruit"),
                        "no_header_body_checks: the reinjected message passed the REJECT rule");
                assertTrue(sink.messageFor("alias@one.example").contains("Subject: not mapped"),
                        "no_address_mappings: the alias was left alone");
                // the sink has the messages before the smtp client logs their status lines: wait for those
                Gateway g = gw;
                assertTrue(ItSupport.waitFor(() -> {
                    String log = ItSupport.maillog(g);
                    return log.contains(reinjected + ": to=<x@one.example>, relay=127.0.0.1[127.0.0.1]:" + SINK_PORT)
                            && log.contains(aliased + ": to=<real@two.example>")
                            && log.contains(unmapped + ": to=<alias@one.example>, relay=127.0.0.1");
                }, 30), ItSupport.maillog(gw));
            } finally {
                gw.stop();
            }
        }
    }
}
