package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.estafeta.testing.PrivateDovecot;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lmtp transport on UNIX-domain sockets with a real Dovecot LMTP server that has no TCP listener at all: an
 * absolute socket ({@code lmtp:unix:/tmp/.../dovecot/lmtp}) and Postfix's usual relative one
 * ({@code lmtp:unix:private/dovecot-lmtp}, under queue_directory), reached through transport_maps, through
 * {@code mailbox_transport} of the local transport, through {@code relay_transport}, and through a master.cf service
 * of its own running the {@code lmtp} command with a {@code -o} override. Arrival is proven by {@code doveadm}, the
 * maillog by Postfix's {@code relay=$myhostname[path]} shape.
 *
 * <p>The gateway's smtpd listens on 127.0.0.1:27470.
 */
class LmtpUnixIT {
    static final int SMTPD_PORT = 27470;
    static final String DELAYS = "delay=[0-9.]+, delays=[0-9./]+, ";
    static final String RELATIVE = "private/dovecot-lmtp";
    static final String RELATIVE_RELAY = "relay=gw\\.estafeta\\.test\\[private/dovecot-lmtp\\]";

    static PrivateDovecot dovecot;
    static Gateway gateway;
    static Path absolute;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(PrivateDovecot.availableOrFail());
        requirePeer("/usr/bin/swaks", "swaks");
        Path queue = tmp.resolve("var/spool");
        absolute = tmp.resolve("dovecot/lmtp");
        dovecot = PrivateDovecot.builder("lmtp-unix").lmtpPort(0)
                .lmtpUnixSocket(absolute)
                .lmtpUnixSocket(queue.resolve(RELATIVE))
                .user("alice@abs.test", "alice-pw")
                .user("bob@rel.test", "bob-pw")
                .user("carol@gw.estafeta.test", "carol-pw")
                .user("dave@relayed.test", "dave-pw")
                .user("erin@own.test", "erin-pw")
                .start();
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Files.writeString(conf.resolve("transport"), String.join("\n",
                "abs.test    lmtp:unix:" + absolute,
                "rel.test    lmtp:unix:" + RELATIVE,
                "own.test    dovecot:unix:" + RELATIVE,
                ""));
        Files.writeString(conf.resolve("main.cf"), String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = gw.estafeta.test",
                "queue_directory = " + queue,
                "mydestination = gw.estafeta.test",
                "relay_domains = relayed.test",
                "relay_transport = lmtp:unix:" + absolute,
                "mynetworks = 127.0.0.0/8",
                "local_recipient_maps =",
                "alias_maps =",
                "transport_maps = texthash:" + conf.resolve("transport"),
                "mailbox_transport = lmtp:unix:" + RELATIVE,
                "minimal_backoff_time = 1h",
                ""));
        Files.writeString(conf.resolve("master.cf"), String.join("\n",
                "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                "qmgr      unix  n       -       n       300     1       qmgr",
                "lmtp      unix  -       -       n       -       -       lmtp",
                "dovecot   unix  -       -       n       -       -       lmtp",
                "  -o lmtp_lhlo_name=lhlo.own.test",
                "local     unix  -       n       n       -       -       local",
                "error     unix  -       -       n       -       -       error",
                ""));
        gateway = Gateway.start(conf, Files.createDirectories(tmp.resolve("var")), "minimal", Map.of());
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

    /** Sends a message with this X-Estafeta-Test header and returns its queue ID. */
    private static String send(String to, String test) throws Exception {
        return Swaks.send(SMTPD_PORT, tmp, "owner@example.org", to, String.join("\r\n",
                "From: Owner <owner@example.org>",
                "To: " + to,
                "Subject: lmtp over unix " + test,
                "X-Estafeta-Test: " + test,
                "",
                "body of " + test,
                ""));
    }

    private static boolean logged(String regex) {
        return Pattern.compile(regex).matcher(ItSupport.maillog(gateway)).find();
    }

    private static String context() {
        return "\n--- gateway maillog ---\n" + ItSupport.maillog(gateway) + "\n--- dovecot log ---\n" + dovecot.log();
    }

    private static void awaitDelivery(String id, String rcpt) throws InterruptedException {
        String line = Pattern.quote(id) + ": to=<" + Pattern.quote(rcpt) + ">, ";
        assertTrue(ItSupport.waitFor(() -> logged(line), 20), "no delivery line for " + rcpt + context());
    }

    /** The one message with this X-Estafeta-Test in the user's mailbox: its header, as a mail client gets it. */
    private static String arrived(String user, String test) throws Exception {
        List<String> found = dovecot.search(user, "HEADER", "X-Estafeta-Test", test);
        assertEquals(1, found.size(), user + " has the message exactly once: " + found + context());
        String body = dovecot.fetch(user, "body", "HEADER", "X-Estafeta-Test", test);
        assertTrue(body.contains("body of " + test), body);
        return dovecot.fetch(user, "hdr", "HEADER", "X-Estafeta-Test", test);
    }

    private static String sent(String service, String id, String rcpt, String relay) {
        return "estafeta/" + service + "\\[\\d+\\]: " + Pattern.quote(id) + ": to=<" + Pattern.quote(rcpt) + ">, "
                + relay + ", " + DELAYS + "dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 <" + Pattern.quote(rcpt)
                + "> \\S+ Saved\\)";
    }

    @Test
    void transportMapsToAnAbsoluteSocket() throws Exception {
        String id = send("alice@abs.test", "unix-1");
        awaitDelivery(id, "alice@abs.test");
        String relay = "relay=gw\\.estafeta\\.test\\[" + Pattern.quote(absolute.toString()) + "\\]";
        assertTrue(logged(sent("lmtp", id, "alice@abs.test", relay)), "sent with relay=$myhostname[path]" + context());
        String hdr = arrived("alice@abs.test", "unix-1");
        assertTrue(hdr.contains("by gw.estafeta.test (Estafeta) with ESMTP id " + id), "the gateway's Received: " + hdr);
        assertTrue(hdr.contains("by lmtp-unix.dovecot.test with LMTP"), "Dovecot's Received: " + hdr);
    }

    @Test
    void transportMapsToASocketUnderQueueDirectoryAndAnUnknownUserBounces() throws Exception {
        String id = send("bob@rel.test,nobody@rel.test", "unix-2");
        awaitDelivery(id, "bob@rel.test");
        awaitDelivery(id, "nobody@rel.test");
        assertTrue(logged(sent("lmtp", id, "bob@rel.test", RELATIVE_RELAY)), "relay= names the path as written" + context());
        assertTrue(logged(Pattern.quote(id) + ": to=<nobody@rel\\.test>, " + RELATIVE_RELAY + ", " + DELAYS
                + "dsn=5\\.1\\.1, status=bounced \\(host gw\\.estafeta\\.test\\[private/dovecot-lmtp\\] said: "
                + "550 5\\.1\\.1 <nobody@rel\\.test> User doesn't exist: nobody@rel\\.test "
                + "\\(in reply to RCPT TO command\\)\\)"), "Dovecot's 550 with the socket's name" + context());
        arrived("bob@rel.test", "unix-2");
    }

    @Test
    void mailboxTransportHandsALocalRecipientToTheSocket() throws Exception {
        String id = send("carol@gw.estafeta.test", "unix-3");
        awaitDelivery(id, "carol@gw.estafeta.test");
        assertTrue(logged("estafeta/local\\[\\d+\\]: " + Pattern.quote(id)
                + ": passing <carol@gw\\.estafeta\\.test> to transport=lmtp\n"), "local passes the recipient" + context());
        assertTrue(logged(sent("local", id, "carol@gw.estafeta.test", RELATIVE_RELAY)), "sent by way of local" + context());
        arrived("carol@gw.estafeta.test", "unix-3");
    }

    @Test
    void relayTransportToTheAbsoluteSocket() throws Exception {
        String id = send("dave@relayed.test", "unix-4");
        awaitDelivery(id, "dave@relayed.test");
        String relay = "relay=gw\\.estafeta\\.test\\[" + Pattern.quote(absolute.toString()) + "\\]";
        assertTrue(logged(sent("lmtp", id, "dave@relayed.test", relay)), "relay_transport = lmtp:unix:..." + context());
        arrived("dave@relayed.test", "unix-4");
    }

    @Test
    void aMasterCfServiceOfItsOwnWithItsOverrides() throws Exception {
        String id = send("erin@own.test", "unix-5");
        awaitDelivery(id, "erin@own.test");
        // logged under the command's name, as Postfix's lmtp does for any service name
        assertTrue(logged(sent("lmtp", id, "erin@own.test", RELATIVE_RELAY)), "sent by the dovecot service" + context());
        String hdr = arrived("erin@own.test", "unix-5");
        assertTrue(hdr.contains("from lhlo.own.test"), "Dovecot's Received names the -o lmtp_lhlo_name: " + hdr);
    }
}
