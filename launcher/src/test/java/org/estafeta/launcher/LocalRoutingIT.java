package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.testing.PrivateDovecot;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local transport's routing parameters with a real Dovecot LMTP server: {@code mailbox_transport} hands every
 * local recipient (user or not) to Dovecot instead of writing a mailbox, {@code luser_relay} sends mail for an unknown
 * name to another address, and {@code fallback_transport} hands only unknown names to Dovecot while users keep their
 * mbox. Each setting lives in its own master.cf service running the {@code local} command ({@code -o} overrides),
 * chosen per domain by transport_maps: {@code gw.estafeta.test} (the {@code local} service, mailbox_transport),
 * {@code lr.estafeta.test} ({@code luser}) and {@code fb.estafeta.test} ({@code fallback}). {@code root} is the user
 * in the passwd database; the others are names Dovecot knows (its users are full addresses).
 *
 * <p>Dovecot listens on 127.0.0.1:27450, the gateway's smtpd on 127.0.0.1:27451.
 */
class LocalRoutingIT {
    static final int LMTP_PORT = 27450;
    static final int SMTPD_PORT = 27451;
    static final String RELAY = "relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + LMTP_PORT;
    static final String DELAYS = "delay=[0-9.]+, delays=[0-9./]+, ";

    static PrivateDovecot dovecot;
    static Gateway gateway;
    static Path spool;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(PrivateDovecot.availableOrFail());
        requirePeer("/usr/bin/swaks", "swaks");
        dovecot = PrivateDovecot.builder("local-routing").lmtpPort(LMTP_PORT)
                .user("alice@gw.estafeta.test", "alice-pw")
                .user("ghost@lmtp.test", "ghost-pw")
                .user("ghost2@fb.estafeta.test", "ghost2-pw")
                .user("owner@lmtp.test", "owner-pw")
                .start();
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        spool = Files.createDirectories(tmp.resolve("spool"));
        Files.writeString(conf.resolve("transport"), String.join("\n",
                "lmtp.test           lmtp:inet:127.0.0.1:" + LMTP_PORT,
                "lr.estafeta.test    luser:",
                "fb.estafeta.test    fallback:",
                ""));
        // main.cf and master.cf written here rather than by EstafetaTarget.start, whose alias_maps this one replaces
        Files.writeString(conf.resolve("main.cf"), String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = gw.estafeta.test",
                "mydestination = gw.estafeta.test, lr.estafeta.test, fb.estafeta.test",
                "mynetworks = 127.0.0.0/8",
                // Dovecot's users and the luser_relay names are not in the passwd database: smtpd must not reject them
                "local_recipient_maps =",
                "alias_maps = inline:{ postmaster=root, info=alice }",
                "transport_maps = texthash:" + conf.resolve("transport"),
                "mail_spool_directory = " + spool,
                "mailbox_transport = lmtp:inet:127.0.0.1:" + LMTP_PORT,
                "luser_relay = $local@lmtp.test",
                "minimal_backoff_time = 1h",
                ""));
        Files.writeString(conf.resolve("master.cf"), String.join("\n",
                "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                "qmgr      unix  n       -       n       300     1       qmgr",
                "lmtp      unix  -       -       n       -       -       lmtp",
                "local     unix  -       n       n       -       -       local",
                "luser     unix  -       n       n       -       -       local",
                "  -o mailbox_transport=",
                "fallback  unix  -       n       n       -       -       local",
                "  -o mailbox_transport=",
                "  -o fallback_transport=lmtp:inet:127.0.0.1:" + LMTP_PORT,
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
        return Swaks.send(SMTPD_PORT, tmp, "owner@lmtp.test", to, String.join("\r\n",
                "From: Owner <owner@lmtp.test>",
                "To: " + to,
                "Subject: local routing " + test,
                "X-Estafeta-Test: " + test,
                "",
                "body of " + test,
                ""));
    }

    private static boolean logged(String regex) {
        return Pattern.compile(regex).matcher(ItSupport.maillog(gateway)).find();
    }

    private static String logLine(String regex) {
        Matcher m = Pattern.compile("(?m)^.*" + regex + ".*$").matcher(ItSupport.maillog(gateway));
        return m.find() ? m.group() : null;
    }

    private static String context() {
        return "\n--- gateway maillog ---\n" + ItSupport.maillog(gateway) + "\n--- dovecot log ---\n" + dovecot.log();
    }

    private static void awaitLine(String regex, String what) throws InterruptedException {
        assertTrue(ItSupport.waitFor(() -> logged(regex), 20), what + context());
    }

    /** The one message with this X-Estafeta-Test in the Dovecot user's mailbox: its header, as a client gets it. */
    private static String dovecotHeader(String user, String test) throws Exception {
        List<String> found = dovecot.search(user, "HEADER", "X-Estafeta-Test", test);
        assertEquals(1, found.size(), user + " has the message exactly once: " + found + context());
        return dovecot.fetch(user, "hdr", "HEADER", "X-Estafeta-Test", test);
    }

    @Test
    void mailboxTransportHandsALocalUserToDovecotsLmtp() throws Exception {
        String id = send("alice@gw.estafeta.test", "route-1");
        String q = Pattern.quote(id);
        awaitLine(q + ": to=<alice@gw\\.estafeta\\.test>, ", "no delivery line");
        assertTrue(logged("estafeta/local\\[\\d+\\]: " + q + ": passing <alice@gw\\.estafeta\\.test> to transport=lmtp\n"),
                "local says where it passes the recipient" + context());
        assertTrue(logged("estafeta/local\\[\\d+\\]: " + q + ": to=<alice@gw\\.estafeta\\.test>, " + RELAY + ", " + DELAYS
                + "dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 <alice@gw\\.estafeta\\.test> \\S+ Saved\\)"),
                "sent with Dovecot's reply and relay" + context());

        String hdr = dovecotHeader("alice@gw.estafeta.test", "route-1");
        assertTrue(hdr.contains("by gw.estafeta.test (Estafeta) with ESMTP id " + id), "the gateway's Received: " + hdr);
        assertTrue(hdr.contains("by local-routing.dovecot.test with LMTP"), "Dovecot's Received: " + hdr);
        String body = dovecot.fetch("alice@gw.estafeta.test", "body", "HEADER", "X-Estafeta-Test", "route-1");
        assertTrue(body.contains("body of route-1"), body);
        assertTrue(Files.notExists(spool.resolve("alice")), "local wrote no mailbox of its own");
    }

    @Test
    void anAliasIsExpandedFirstAndTheAliasTargetIsPassed() throws Exception {
        String id = send("info@gw.estafeta.test", "route-2");
        String q = Pattern.quote(id);
        awaitLine(q + ": to=<info@gw\\.estafeta\\.test>, ", "no delivery line");
        assertTrue(logged(q + ": passing <alice@gw\\.estafeta\\.test> to transport=lmtp\n"), "the alias target" + context());
        assertTrue(logged(q + ": to=<info@gw\\.estafeta\\.test>, " + RELAY + ", " + DELAYS
                + "dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 <alice@gw\\.estafeta\\.test> \\S+ Saved\\)"),
                "sent to the alias target" + context());
        dovecotHeader("alice@gw.estafeta.test", "route-2");
    }

    @Test
    void mailboxTransportAlsoTakesNamesOutsideThePasswdDatabaseSoLuserRelayDoesNotApply() throws Exception {
        String id = send("nobody-here@gw.estafeta.test", "route-3");
        String q = Pattern.quote(id);
        awaitLine(q + ": to=<nobody-here@gw\\.estafeta\\.test>, ", "no delivery line");
        assertTrue(logged(q + ": passing <nobody-here@gw\\.estafeta\\.test> to transport=lmtp\n"), context());
        assertTrue(logged(q + ": to=<nobody-here@gw\\.estafeta\\.test>, " + RELAY + ", " + DELAYS + "dsn=5\\.1\\.1, "
                + "status=bounced \\(host 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\] said: 550 5\\.1\\.1 "
                + "<nobody-here@gw\\.estafeta\\.test> User doesn't exist: nobody-here@gw\\.estafeta\\.test "
                + "\\(in reply to RCPT TO command\\)\\)"), "Dovecot's 550, not luser_relay" + context());
        assertTrue(!logged(q + ": to=<nobody-here@gw\\.estafeta\\.test>, .*forwarded as"), "luser_relay was not used");
    }

    @Test
    void luserRelaySendsAnUnknownNameToAnotherAddressAndLeavesUsersAlone() throws Exception {
        String id = send("ghost@lr.estafeta.test", "route-4");
        String q = Pattern.quote(id);
        awaitLine(q + ": to=<ghost@lr\\.estafeta\\.test>, ", "no delivery line");
        String line = logLine("estafeta/local\\[\\d+\\]: " + q + ": to=<ghost@lr\\.estafeta\\.test>, relay=luser, " + DELAYS
                + "dsn=2\\.0\\.0, status=sent \\(forwarded as \\S+\\)");
        assertTrue(line != null, "forwarded by luser_relay" + context());
        String forwarded = line.replaceAll(".*forwarded as (\\S+)\\)$", "$1");
        String f = Pattern.quote(forwarded);
        awaitLine(f + ": to=<ghost@lmtp\\.test>, " + RELAY + ", " + DELAYS
                + "dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 <ghost@lmtp\\.test> \\S+ Saved\\)",
                "the copy for $local@lmtp.test is not delivered");
        String hdr = dovecotHeader("ghost@lmtp.test", "route-4");
        assertTrue(hdr.contains("Delivered-To: ghost@lr.estafeta.test"), "local's Delivered-To on the copy: " + hdr);

        // root is a user: its mbox, not luser_relay
        String id2 = send("root@lr.estafeta.test", "route-5");
        String q2 = Pattern.quote(id2);
        awaitLine(q2 + ": to=<root@lr\\.estafeta\\.test>, ", "no delivery line for root");
        assertTrue(logged(q2 + ": to=<root@lr\\.estafeta\\.test>, relay=luser, " + DELAYS
                + "dsn=2\\.0\\.0, status=sent \\(delivered to mailbox\\)"), context());
        String mbox = Files.readString(spool.resolve("root"), StandardCharsets.UTF_8);
        assertTrue(mbox.contains("X-Estafeta-Test: route-5"), mbox);
    }

    @Test
    void fallbackTransportTakesOnlyNamesOutsideThePasswdDatabase() throws Exception {
        String id = send("ghost2@fb.estafeta.test", "route-6");
        String q = Pattern.quote(id);
        awaitLine(q + ": to=<ghost2@fb\\.estafeta\\.test>, ", "no delivery line");
        assertTrue(logged("estafeta/local\\[\\d+\\]: " + q + ": passing <ghost2@fb\\.estafeta\\.test> to transport=lmtp\n"),
                context());
        assertTrue(logged(q + ": to=<ghost2@fb\\.estafeta\\.test>, " + RELAY + ", " + DELAYS
                + "dsn=2\\.0\\.0, status=sent \\(250 2\\.0\\.0 <ghost2@fb\\.estafeta\\.test> \\S+ Saved\\)"),
                "sent to Dovecot by fallback_transport" + context());
        dovecotHeader("ghost2@fb.estafeta.test", "route-6");

        String id2 = send("root@fb.estafeta.test", "route-7");
        String q2 = Pattern.quote(id2);
        awaitLine(q2 + ": to=<root@fb\\.estafeta\\.test>, ", "no delivery line for root");
        assertTrue(logged(q2 + ": to=<root@fb\\.estafeta\\.test>, relay=fallback, " + DELAYS
                + "dsn=2\\.0\\.0, status=sent \\(delivered to mailbox\\)"), context());
        assertTrue(!logged(q2 + ": passing"), "a user is not passed to the fallback transport");
        String mbox = Files.readString(spool.resolve("root"), StandardCharsets.UTF_8);
        assertTrue(mbox.contains("X-Estafeta-Test: route-7"), mbox);
    }
}
