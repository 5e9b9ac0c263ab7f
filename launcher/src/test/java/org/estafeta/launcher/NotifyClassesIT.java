package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tutorial section 7.1: {@code notify_classes = resource, software, policy} (the tutorial's main.cf line). A client
 * outside {@code mynetworks} tries to relay; the postmaster ({@code error_notice_recipient}, here an address the
 * gateway relays to Postfix's smtp-sink) gets the session transcript from the double-bounce sender, through the
 * real mail path. A session with only a protocol error (not in the tutorial's classes) sends nothing.
 */
class NotifyClassesIT {
    static final int SMTP_PORT = 27961;
    static final int SINK_PORT = 27962;

    @TempDir
    Path tmp;

    @Test
    void aRefusedRelayAttemptReachesThePostmasterAsATranscript() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        SmtpSink sink = SmtpSink.start(tmp, "sink", SINK_PORT);
        Path dumps = sink.dir;
        Gateway gw = null;
        try {
            gw = EstafetaTarget.start(tmp, String.join("\n",
                    "compatibility_level = 3.6",
                    "myhostname = gw.estafeta.test",
                    "mydestination =",
                    "mynetworks = 127.0.0.1/32",
                    "relay_domains = admin.test",
                    "transport_maps = inline:{ admin.test=smtp:[127.0.0.1]:" + SINK_PORT + " }",
                    "error_notice_recipient = hostmaster@admin.test",
                    "# the tutorial's section 7.1 choice",
                    "notify_classes = resource, software, policy",
                    ""), String.join("\n",
                    "127.0.0.1:" + SMTP_PORT + " inet n - n - - smtpd",
                    "qmgr unix n - n 300 1 qmgr",
                    "smtp unix - - n - - smtp",
                    "error unix - - n - - error",
                    ""));
            EstafetaTarget.awaitListener(SMTP_PORT);

            // a protocol error only: protocol is not among the tutorial's classes, so no notice
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName("127.0.0.2"), 0));
                socket.connect(new java.net.InetSocketAddress("127.0.0.1", SMTP_PORT), 5000);
                socket.setSoTimeout(20_000);
                java.io.BufferedReader in = new java.io.BufferedReader(
                        new java.io.InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
                java.io.OutputStream out = socket.getOutputStream();
                in.readLine();
                out.write("HELO junk.example\r\n".getBytes(StandardCharsets.US_ASCII));
                in.readLine();
                out.write("FROBNICATE\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(in.readLine().startsWith("500 5.5.2"));
                out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(in.readLine().startsWith("221"));
            }
            // a relay attempt from outside mynetworks: policy
            Swaks.Transcript relay = Swaks.run(SMTP_PORT, "--local-interface", "127.0.0.2", "--from", "spam@bad.example",
                    "--to", "victim@elsewhere.example", "--helo", "relay-tester.example");
            assertTrue(relay.result().output().contains("Relay access denied"), relay.result().output());

            assertTrue(waitFor(() -> withText(dumps, "Transcript of session follows.").isPresent(), 60),
                    "no notice arrived:\n" + ItSupport.maillog(gw));
            String notice = withText(dumps, "Transcript of session follows.").orElseThrow();
            assertTrue(notice.contains("Subject: Estafeta SMTP server: errors from unknown[127.0.0.2]"), notice);
            assertTrue(notice.contains("From: Mail Delivery System <MAILER-DAEMON@gw.estafeta.test>")
                    || notice.contains("From: Mail Delivery System <MAILER-DAEMON>"), notice);
            assertTrue(notice.contains("In:  RCPT TO:<victim@elsewhere.example>"), notice);
            assertTrue(notice.contains("Out: 454 4.7.1 <victim@elsewhere.example>: Relay access denied"), notice);
            assertTrue(notice.contains("For other details, see the local mail logfile"), notice);
            assertTrue(ItSupport.maillog(gw).contains("from=<double-bounce@gw.estafeta.test>"), ItSupport.maillog(gw));
            Thread.sleep(1000);
            try (Stream<Path> files = Files.list(dumps)) {
                assertFalse(files.map(NotifyClassesIT::read).anyMatch(t -> t.contains("HELO junk.example")),
                        "a notice for a class the tutorial did not ask for");
            }
        } finally {
            if (gw != null) {
                gw.stop();
            }
            sink.close();
        }
    }

    private static Optional<String> withText(Path dumps, String text) {
        try (Stream<Path> files = Files.list(dumps)) {
            return files.map(NotifyClassesIT::read).filter(t -> t.contains(text)).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }
}
