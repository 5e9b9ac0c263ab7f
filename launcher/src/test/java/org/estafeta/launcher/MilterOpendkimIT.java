package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.estafeta.testing.PrivateOpendkim;
import org.estafeta.testing.PrivatePostfix;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, milters: Estafeta with {@code smtpd_milters = inet:127.0.0.1:PORT} pointing at a real OpenDKIM in
 * signing mode relays to a real Postfix whose own {@code smtpd_milters} is a second, verifying OpenDKIM (it knows
 * the signer's public key from a TestPublicKeys file; no DNS); Postfix stores what it accepts in a Maildir. The
 * message arrives signed by Estafeta's milter and Postfix's verifier says {@code dkim=pass}. Then OpenDKIM is
 * stopped: with Postfix's default {@code milter_default_action = tempfail} the client gets a 4xx and nothing is
 * queued unsigned.
 */
class MilterOpendkimIT {
    static final int SMTPD_PORT = 27991;
    static final int POSTFIX_PORT = 27992;

    @TempDir
    Path tmp;

    @Test
    void estafetaSignsThroughOpendkimAndPostfixVerifiesThroughOpendkim() throws Exception {
        requirePeer(PrivateOpendkim.OPENDKIM, "opendkim");
        assumeTrue(PrivatePostfix.availableOrFail());
        Path signerDir = tmp.resolve("signer");
        Path verifierDir = tmp.resolve("verifier");
        PrivatePostfix postfix = null;
        Gateway gw = null;
        Path sandbox = tmp.resolve("gw");
        try (PrivateOpendkim signer = PrivateOpendkim.signer(signerDir, "example.org", "estafeta")) {
            try (PrivateOpendkim verifier = PrivateOpendkim.verifier(verifierDir, "example.org", "estafeta",
                    signer.publicKeyRecord(), "sink.postfix.test")) {
                PrivatePostfix.Builder b = PrivatePostfix.builder("milter-verifier");
                Path maildirs = b.directory().resolve("maildirs");
                b.mainCf(String.join("\n",
                        "compatibility_level = 3.6",
                        "myhostname = sink.postfix.test",
                        "mydestination =",
                        "mynetworks = 127.0.0.2/32",
                        "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
                        "smtpd_milters = " + verifier.milterAddress(),
                        "virtual_mailbox_domains = sink.test",
                        "virtual_mailbox_base = " + maildirs,
                        "virtual_mailbox_maps = inline:{ alice@sink.test=alice/ }",
                        "virtual_uid_maps = static:65534",
                        "virtual_gid_maps = static:65534",
                        ""))
                        .masterCf("127.0.0.1:" + POSTFIX_PORT + " inet n - n - - smtpd\n");
                postfix = b.start();
                Files.createDirectories(maildirs);
                new ProcessBuilder("chown", "65534:65534", maildirs.toString()).inheritIO().start().waitFor();

                gw = EstafetaTarget.start(sandbox, String.join("\n",
                        "compatibility_level = 3.6",
                        "myhostname = gw.example.org",
                        "mydestination =",
                        "mynetworks = 127.0.0.0/8",
                        "relayhost = [127.0.0.1]:" + POSTFIX_PORT,
                        "smtpd_milters = " + signer.milterAddress(),
                        "minimal_backoff_time = 1h",
                        ""), String.join("\n",
                        "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                        "qmgr unix n - n 300 1 qmgr",
                        "smtp unix - - n - - smtp",
                        "error unix - - n - - error",
                        ""));
                EstafetaTarget.awaitListener(SMTPD_PORT);

                Swaks.Transcript t = Swaks.run(SMTPD_PORT, "--from", "ana@example.org", "--to", "alice@sink.test",
                        "--header", "Subject: signed by a milter", "--body", "a body OpenDKIM signs\nand Postfix checks");
                assertTrue(t.last("250").startsWith("250 2.0.0 Ok: queued as"), t.result().output());
                Path box = maildirs.resolve("alice/new");
                PrivatePostfix p = postfix;
                assertTrue(waitFor(() -> count(box) == 1, 60),
                        "nothing arrived:\n" + ItSupport.maillog(gw) + "\n--- postfix:\n" + p.maillog());
                String delivered;
                try (Stream<Path> files = Files.list(box)) {
                    delivered = Files.readString(files.findFirst().orElseThrow());
                }
                assertTrue(delivered.contains("DKIM-Signature:") && delivered.contains("d=example.org")
                        && delivered.contains("s=estafeta"), delivered);
                assertTrue(delivered.matches("(?s).*Authentication-Results: sink\\.postfix\\.test;\\s+dkim=pass.*"),
                        delivered + "\n--- verifier:\n" + verifier.log());
                assertTrue(ItSupport.maillog(gw).contains("accept: filter smtpd_milters"), ItSupport.maillog(gw));

                // the milter is gone: milter_default_action = tempfail, nothing unsigned is queued
                signer.stop();
                Swaks.Transcript down = Swaks.run(SMTPD_PORT, "--from", "ana@example.org", "--to", "alice@sink.test",
                        "--header", "Subject: milter down");
                String last = down.serverLines().get(down.serverLines().size() - 2);
                assertTrue(last.startsWith("451 4.7.1") || last.startsWith("451 4.3.0"), down.result().output());
                Thread.sleep(2000);
                assertEquals(1, count(box), "a message was delivered while its milter was down");
            }
        } finally {
            if (gw != null) {
                gw.stop();
            }
            if (postfix != null) {
                postfix.close();
            }
        }
    }

    private static long count(Path box) {
        try (Stream<Path> files = Files.list(box)) {
            return files.count();
        } catch (IOException e) {
            return 0;
        }
    }
}
