package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.estafeta;
import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * header_checks' REDIRECT, BCC and FILTER actions with real delivery (docs/header-actions.md): cleanup records them
 * after the content (queue file version 2), and the queue manager delivers to the redirect address only, adds the
 * blind copy, and routes a filtered message through the named transport. Deliveries end at Postfix's smtp-sink, which
 * keeps each message in a file that names its envelope recipients ({@code X-Rcpt-Args:}).
 */
class HeaderActionsIT {
    static final int SMTPD_PORT = 28561;
    static final int SINK_PORT = 28562;
    static final int FILTER_PORT = 28563;
    static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");

    @TempDir
    Path tmp;

    static String queued(Swaks.Transcript t) {
        String line = t.last("250 2.0.0");
        Matcher m = QUEUED.matcher(line == null ? "" : line);
        assertTrue(m.find(), t.serverLines().toString());
        return m.group(1);
    }

    @Test
    void redirectBccAndFilterAreDeliveredAsPostfixDoes() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Files.writeString(conf.resolve("header_checks"), String.join("\n",
                "/^Subject: redirect me/ REDIRECT boss@redirect.example",
                "/^Subject: copy me/ BCC audit@audit.example",
                "/^X-Copy-Too:/ BCC second@audit.example",
                "/^Subject: filter me/ FILTER scanner:[127.0.0.1]:" + FILTER_PORT,
                "/^X-Hold:/ HOLD",
                ""));
        try (SmtpSink sink = SmtpSink.start(tmp, "sink", SINK_PORT); SmtpSink scanner = SmtpSink.start(tmp, "scanner", FILTER_PORT)) {
            Gateway gw = EstafetaTarget.start(tmp, String.join("\n",
                    "compatibility_level = 3.6",
                    "myhostname = gw.estafeta.test",
                    "mydestination =",
                    "mynetworks = 127.0.0.0/8",
                    "relayhost = [127.0.0.1]:" + SINK_PORT,
                    "header_checks = regexp:" + conf.resolve("header_checks"),
                    ""), String.join("\n",
                    "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                    "qmgr      unix  n       -       n       300     1       qmgr",
                    "smtp      unix  -       -       n       -       -       smtp",
                    "scanner   unix  -       -       n       -       10      smtp",
                    ""));
            try {
                EstafetaTarget.awaitListener(SMTPD_PORT);
                String redirected = queued(Swaks.run(SMTPD_PORT, "--from", "s@client.example", "--to",
                        "a@one.example,b@two.example", "--header", "Subject: redirect me"));
                String copied = queued(Swaks.run(SMTPD_PORT, "--from", "s@client.example", "--to", "c@one.example",
                        "--header", "Subject: copy me", "--add-header", "X-Copy-Too: yes"));
                String filtered = queued(Swaks.run(SMTPD_PORT, "--from", "s@client.example", "--to",
                        "d@one.example", "--header", "Subject: filter me"));
                assertTrue(ItSupport.waitFor(() -> sink.recipients().size() >= 4 && scanner.recipients().size() >= 1,
                        60), "not all delivered: " + sink.deliveries() + " " + scanner.deliveries() + "\n"
                                + ItSupport.maillog(gw));
                Thread.sleep(1000); // anything more (a copy for a@ or b@) would arrive now
                assertEquals(List.of("audit@audit.example", "boss@redirect.example", "c@one.example",
                        "second@audit.example"), sink.recipients(),
                        "REDIRECT: only the redirect address; BCC: the copies; " + ItSupport.maillog(gw));
                assertTrue(sink.deliveries().contains(List.of("boss@redirect.example")), sink.deliveries().toString());
                assertEquals(List.of("d@one.example"), scanner.recipients(), "FILTER: through the scanner transport");
                assertTrue(scanner.messageFor("d@one.example").contains("Subject: filter me"));

                String log = ItSupport.maillog(gw);
                assertTrue(Pattern.compile(redirected + ": redirect: header Subject: redirect me from \\S+\\[127\\.0\\.0"
                        + "\\.1\\]; from=<s@client\\.example> to=<b@two\\.example> proto=ESMTP helo=<[^>]*>: "
                        + "boss@redirect\\.example\n").matcher(log).find(), log);
                assertTrue(log.contains(redirected + ": to=<boss@redirect.example>, orig_to=<a@one.example>, "
                        + "relay=127.0.0.1[127.0.0.1]:" + SINK_PORT), log);
                assertTrue(Pattern.compile(copied + ": bcc: header X-Copy-Too: yes from \\S+\\[127\\.0\\.0\\.1\\]; "
                        + "from=<s@client\\.example> to=<c@one\\.example> proto=ESMTP helo=<[^>]*>: "
                        + "second@audit\\.example\n").matcher(log).find(), log);
                assertTrue(Pattern.compile(filtered + ": filter: header Subject: filter me from \\S+; .*: scanner:"
                        + "\\[127\\.0\\.0\\.1\\]:" + FILTER_PORT + "\n").matcher(log).find(), log);
                assertTrue(log.contains(filtered + ": to=<d@one.example>, relay=127.0.0.1[127.0.0.1]:" + FILTER_PORT),
                        log);
                assertTrue(!log.contains("not supported yet"), log);

                // a held message keeps its extracted records where postcat and postqueue show them
                String held = queued(Swaks.run(SMTPD_PORT, "--from", "s@client.example", "--to", "e@one.example",
                        "--header", "Subject: copy me", "--add-header", "X-Hold: 1"));
                Path var = tmp.resolve("var");
                ItSupport.Result cat = estafeta(conf, var, "postcat", "-q", held);
                assertEquals(0, cat.exit(), cat.output());
                assertTrue(cat.stdout().contains("\nrecipient: e@one.example\n*** MESSAGE CONTENTS hold/" + held),
                        cat.output());
                assertTrue(cat.stdout().endsWith("*** HEADER EXTRACTED hold/" + held + " ***\ndsn_notify_flags: 1\n"
                        + "recipient: audit@audit.example\n*** MESSAGE FILE END hold/" + held + " ***\n"),
                        cat.output());
                String list = estafeta(conf, var, "postqueue", "-p").stdout();
                assertTrue(list.contains(held + "!") && list.contains("audit@audit.example"), list);
            } finally {
                gw.stop();
            }
        }
    }
}
