package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import org.estafeta.testing.PrivateDovecot;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delivery to a real Dovecot (issue 5): the {@code lmtp} transport hands mail to Dovecot's LMTP server, which
 * answers per recipient (an unknown user is a 550 at RCPT time, bounced by the gateway with Dovecot's text); and
 * the {@code virtual} transport writes a Maildir that Dovecot, as a mail client would, reads back intact
 * (decoded RFC 2047 subject, 8-bit body byte for byte). Dovecot and the gateway are private instances on
 * 127.0.0.1:27400 (LMTP) and 127.0.0.1:27401 (the gateway's smtpd); mail belongs to nobody:nogroup (65534).
 */
class DovecotIT {
    static final int LMTP_PORT = 27400;
    static final int SMTPD_PORT = 27401;
    /** "Grüße aus Köln" as one UTF-8 B encoded-word: the raw header holds none of the decoded words. */
    static final String SUBJECT = "Grüße aus Köln";
    static final String ENCODED_SUBJECT = "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=";

    static PrivateDovecot dovecot;
    static Gateway gateway;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(PrivateDovecot.availableOrFail());
        requirePeer("/usr/bin/swaks", "swaks");
        dovecot = PrivateDovecot.builder("dovecot-it").lmtpPort(LMTP_PORT)
                .user("alice@lmtp.test", "alice-pw").user("bob@lmtp.test", "bob-pw")
                // mailboxes the gateway's virtual transport writes: mail/USER, as Dovecot's mail_location says
                .user("carol@virt.test", "carol-pw").user("owner@virt.test", "owner-pw")
                .start();
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Files.writeString(conf.resolve("transport"), "lmtp.test    lmtp:inet:127.0.0.1:" + LMTP_PORT + "\n");
        Files.writeString(conf.resolve("vmailbox"), String.join("\n",
                "carol@virt.test    carol@virt.test/",
                "owner@virt.test    owner@virt.test/",
                ""));
        gateway = EstafetaTarget.start(tmp, String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = gw.estafeta.test",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "transport_maps = texthash:" + conf.resolve("transport"),
                "virtual_mailbox_domains = virt.test",
                "virtual_mailbox_base = " + dovecot.mailDirectory(),
                "virtual_mailbox_maps = texthash:" + conf.resolve("vmailbox"),
                "virtual_uid_maps = static:65534",
                "virtual_gid_maps = static:65534",
                "minimal_backoff_time = 1h",
                ""), String.join("\n",
                "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                "qmgr      unix  n       -       n       300     1       qmgr",
                "lmtp      unix  -       -       n       -       -       lmtp",
                "virtual   unix  -       n       n       -       -       virtual",
                "error     unix  -       -       n       -       -       error",
                ""));
        EstafetaTarget.awaitListener(SMTPD_PORT);
    }

    @AfterAll
    static void stop() {
        try {
            if (gateway != null) {
                gateway.stop();
            }
        } finally {
            if (dovecot != null) {
                dovecot.close();
            }
        }
    }

    /** Sends this message (LF line ends; swaks sends CRLF) and returns its queue ID. */
    private static String send(String from, String to, String message) throws Exception {
        return Swaks.send(SMTPD_PORT, tmp, from, to, message);
    }

    private static boolean logged(String regex) {
        return Pattern.compile(regex).matcher(ItSupport.maillog(gateway)).find();
    }

    private static String context() {
        return "\n--- gateway maillog ---\n" + ItSupport.maillog(gateway) + "\n--- dovecot log ---\n" + dovecot.log();
    }

    @Test
    void lmtpDeliversToDovecotPerRecipientAndAnUnknownUserBouncesWithDovecotsReply() throws Exception {
        String id = send("owner@virt.test", "alice@lmtp.test,bob@lmtp.test,ghost@lmtp.test", String.join("\n",
                "From: Owner <owner@virt.test>",
                "To: alice@lmtp.test, bob@lmtp.test, ghost@lmtp.test",
                "Subject: over lmtp",
                "X-Estafeta-Test: lmtp-1",
                "",
                "delivered by LMTP",
                ""));
        String q = Pattern.quote(id);
        String relay = "relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + LMTP_PORT;
        assertTrue(ItSupport.waitFor(() -> logged(q + ": to=<ghost@lmtp\\.test>, ")
                && logged(q + ": to=<alice@lmtp\\.test>, ") && logged(q + ": to=<bob@lmtp\\.test>, "), 20),
                "no delivery lines for all three recipients" + context());

        for (String user : List.of("alice", "bob")) {
            assertTrue(logged(q + ": to=<" + user + "@lmtp\\.test>, " + relay + ", delay=[0-9.]+, delays=[0-9./]+, "
                    + "dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 <" + user + "@lmtp\\.test> \\S+ Saved\\)"),
                    user + " not sent with Dovecot's reply" + context());
        }
        assertTrue(logged(q + ": to=<ghost@lmtp\\.test>, " + relay + ", delay=[0-9.]+, delays=[0-9./]+, dsn=5\\.1\\.1, "
                + "status=bounced \\(host 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\] said: 550 5\\.1\\.1 <ghost@lmtp\\.test> "
                + "User doesn't exist: ghost@lmtp\\.test \\(in reply to RCPT TO command\\)\\)"),
                "ghost: no bounce with Dovecot's 550" + context());

        for (String user : List.of("alice@lmtp.test", "bob@lmtp.test")) {
            List<String> found = dovecot.search(user, "HEADER", "X-Estafeta-Test", "lmtp-1");
            assertEquals(1, found.size(), user + " has the message exactly once: " + found + context());
            String hdr = dovecot.fetch(user, "hdr", "HEADER", "X-Estafeta-Test", "lmtp-1");
            assertTrue(hdr.contains("by gw.estafeta.test (Estafeta) with ESMTP id " + id), "the gateway's Received: " + hdr);
            assertTrue(hdr.contains("by dovecot-it.dovecot.test with LMTP"), "Dovecot's Received: " + hdr);
            assertTrue(hdr.contains("Subject: over lmtp"), hdr);
            String body = dovecot.fetch(user, "body", "HEADER", "X-Estafeta-Test", "lmtp-1");
            assertTrue(body.contains("delivered by LMTP"), body);
        }

        // the bounce for ghost goes back to the sender, a virtual mailbox that Dovecot reads
        assertTrue(ItSupport.waitFor(() -> {
            try {
                return dovecot.search("owner@virt.test", "SUBJECT", "Undelivered Mail Returned to Sender").size() == 1;
            } catch (Exception e) {
                return false;
            }
        }, 20), "no bounce in owner@virt.test's Maildir" + context());
        String bounce = dovecot.fetch("owner@virt.test", "text", "SUBJECT", "Undelivered Mail Returned to Sender");
        assertTrue(bounce.contains("Final-Recipient: rfc822; ghost@lmtp.test"), bounce);
        assertTrue(bounce.contains("Status: 5.1.1"), bounce);
        assertTrue(bounce.contains("User doesn't exist: ghost@lmtp.test"), bounce);
        assertTrue(bounce.contains("X-Estafeta-Test: lmtp-1"), "the original's header is returned: " + bounce);
        assertTrue(!bounce.contains("Final-Recipient: rfc822; alice@lmtp.test"), "only ghost failed: " + bounce);
    }

    @Test
    void aVirtualMaildirIsReadByDovecotWithSubjectAndBodyIntact() throws Exception {
        String body = String.join("\n",
                "Grüße aus Köln: ein 8-bit UTF-8 body, € and ✓.",
                ".a line that starts with a dot (dot-stuffed on the wire, not in the mailbox)",
                "From the start of a line (Maildir does not quote it)",
                "",
                "  indented, after an empty line",
                "last line",
                "");
        String id = send("owner@virt.test", "carol@virt.test", String.join("\n",
                "From: Owner <owner@virt.test>",
                "To: Carol <carol@virt.test>",
                "Subject: " + ENCODED_SUBJECT,
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=UTF-8",
                "Content-Transfer-Encoding: 8bit",
                "X-Estafeta-Test: virtual-1",
                "",
                body));
        String q = Pattern.quote(id);
        assertTrue(ItSupport.waitFor(() -> logged(q + ": to=<carol@virt\\.test>, "), 20), "no delivery line" + context());
        assertTrue(logged(q + ": to=<carol@virt\\.test>, relay=virtual, delay=[0-9.]+, delays=[0-9./]+, dsn=2\\.0\\.0, "
                + "status=sent \\(delivered to maildir\\)"), "not delivered to the Maildir" + context());
        Path maildir = dovecot.mailDirectory().resolve("carol@virt.test");
        assertTrue(Files.isDirectory(maildir.resolve("new")) || Files.isDirectory(maildir.resolve("cur")),
                "no Maildir at " + maildir);

        String user = "carol@virt.test";
        // "aus" is only inside the encoded-word: Dovecot's search matches the decoded subject
        List<String> found = dovecot.search(user, "SUBJECT", "aus");
        assertEquals(1, found.size(), "Dovecot finds the message by its decoded subject: " + found + context());
        assertEquals(found, dovecot.search(user, "ALL"), "exactly one message in the Maildir");
        String subject = dovecot.fetch(user, "hdr.subject.utf8", "ALL");
        assertEquals("hdr.subject.utf8: " + SUBJECT, subject.strip(), "decoded subject");
        String raw = dovecot.fetch(user, "hdr.subject", "ALL");
        assertEquals("hdr.subject: " + ENCODED_SUBJECT, raw.strip(), "the encoded-word as sent");
        String hdr = dovecot.fetch(user, "hdr", "ALL");
        assertTrue(hdr.contains("Delivered-To: carol@virt.test"), hdr);
        assertTrue(hdr.contains("Return-Path: <owner@virt.test>"), hdr);
        assertTrue(hdr.contains("by gw.estafeta.test (Estafeta) with ESMTP id " + id), hdr);
        assertTrue(hdr.contains("X-Estafeta-Test: virtual-1"), hdr);

        String fetched = dovecot.fetch(user, "body", "ALL");
        assertTrue(fetched.startsWith("body:\n"), fetched);
        assertEquals(body, fetched.substring("body:\n".length()).replace("\r\n", "\n").replaceAll("\n+\\z", "\n"),
                "the body as sent, byte for byte (line ends aside)");
        // what an IMAP client would be told about the message's structure
        String structure = dovecot.fetch(user, "imap.bodystructure", "ALL");
        assertTrue(structure.contains("\"text\" \"plain\" (\"charset\" \"UTF-8\")"), structure);
        assertTrue(structure.contains("\"8bit\""), structure);
    }
}
