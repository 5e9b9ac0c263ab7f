package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.exec;
import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * postqueue, postsuper and postcat as an operator types them: mail sent with swaks to a running gateway is listed,
 * held, released, shown and deleted through the control socket; then the same listing and deletion with the
 * gateway stopped, on the files.
 */
class QueueAdminIT {
    static final int SMTP_PORT = 27725;
    static final String SWAKS = "/usr/bin/swaks";
    static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");

    @TempDir
    Path tmp;

    @Test
    void listHoldReleaseCatAndDeleteOnARunningGatewayThenOnTheFiles() throws Exception {
        requirePeer(SWAKS, "swaks");
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Path var = Files.createDirectories(tmp.resolve("var"));
        Files.writeString(conf.resolve("main.cf"), String.join("\n", "compatibility_level = 3.6",
                "myhostname = relay.example.org", "mynetworks = 127.0.0.0/8", "") );
        Files.writeString(conf.resolve("master.cf"), "127.0.0.1:" + SMTP_PORT + " inet n - n - - smtpd\n");
        Gateway gateway = Gateway.start(conf, var, "minimal", Map.of());
        String id;
        String id2;
        try {
            assertTrue(ItSupport.waitFor(QueueAdminIT::listening, 60), "smtpd did not start listening");
            id = send("first@example.net", "queue admin test one");
            id2 = send("second@example.net", "queue admin test two");

            ItSupport.Result list = estafeta(conf, var, "postqueue", "-p");
            assertEquals(0, list.exit(), list.output());
            List<String> lines = list.stdout().lines().toList();
            assertEquals("----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------", lines.get(0));
            assertTrue(Pattern.compile("(?m)^" + id + " +\\d+ \\w{3} \\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d sender@example\\.com$")
                    .matcher(list.stdout()).find(), list.output());
            assertTrue(list.stdout().contains(String.format("%-17s %8s %-19s %s", "", "", "", "first@example.net")),
                    list.output());
            assertTrue(lines.get(lines.size() - 1).matches("-- \\d+ Kbytes in 2 Requests\\."), list.output());

            ItSupport.Result hold = estafeta(conf, var, "postsuper", "-h", id);
            assertEquals(0, hold.exit(), hold.output());
            assertEquals("postsuper: " + id + ": placed on hold\npostsuper: Placed on hold: 1 message\n", hold.output());
            assertTrue(estafeta(conf, var, "postqueue", "-p").stdout().contains(id + "! "), "held mail is marked !");

            ItSupport.Result release = estafeta(conf, var, "postsuper", "-H", id);
            assertEquals("postsuper: " + id + ": released from hold\npostsuper: Released from hold: 1 message\n",
                    release.output());
            assertTrue(Files.exists(gateway.queueDirectory().resolve("deferred").resolve(id)), "released to deferred");
            assertTrue(!estafeta(conf, var, "postqueue", "-p").stdout().contains(id + "!"));

            ItSupport.Result cat = estafeta(conf, var, "postcat", "-q", id);
            assertEquals(0, cat.exit(), cat.output());
            assertTrue(cat.stdout().startsWith("*** ENVELOPE RECORDS deferred/" + id + " ***\n"), cat.output());
            assertTrue(cat.stdout().contains("\nsender: sender@example.com\n"), cat.output());
            assertTrue(cat.stdout().contains("\nrecipient: first@example.net\n"), cat.output());
            assertTrue(cat.stdout().contains("*** MESSAGE CONTENTS deferred/" + id + " ***\n"), cat.output());
            assertTrue(cat.stdout().contains("\nSubject: queue admin test one\n"), cat.output());
            assertTrue(cat.stdout().endsWith("*** MESSAGE FILE END deferred/" + id + " ***\n"), cat.output());

            ItSupport.Result flush = estafeta(conf, var, "postqueue", "-f");
            assertEquals(69, flush.exit(), flush.output());
            assertEquals("postqueue: fatal: Cannot flush mail queue - mail system is down\n", flush.output());

            ItSupport.Result del = estafeta(conf, var, "postsuper", "-d", id);
            assertEquals("postsuper: " + id + ": removed\npostsuper: Deleted: 1 message\n", del.output());
            assertTrue(Files.readString(gateway.maillogFile()).contains("postsuper[") , "logged as postsuper");
        } finally {
            gateway.stop();
        }

        // stopped: the files
        ItSupport.Result offline = estafeta(conf, var, "postqueue", "-p");
        assertEquals(0, offline.exit(), offline.output());
        assertTrue(offline.output().contains("postqueue: warning: Mail system is down -- accessing queue directly"),
                offline.output());
        assertTrue(offline.stdout().contains("\n" + id2 + " "), offline.output());
        assertTrue(offline.stdout().endsWith(" Kbytes in 1 Request.\n"), offline.output());
        ItSupport.Result delAll = estafeta(conf, var, "postsuper", "-d", "ALL");
        assertEquals(0, delAll.exit(), delAll.output());
        assertEquals("postsuper: Deleted: 1 message\n", delAll.output());
        ItSupport.Result empty = estafeta(conf, var, "postqueue", "-p");
        assertEquals("Mail queue is empty\n", empty.stdout(), empty.output());
    }

    private static boolean listening() {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", SMTP_PORT)) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static String send(String to, String subject) throws Exception {
        ItSupport.Result r = exec(List.of(SWAKS, "--server", "127.0.0.1:" + SMTP_PORT, "--from", "sender@example.com",
                "--to", to, "--header", "Subject: " + subject), Map.of(), 60);
        assertEquals(0, r.exit(), r.output());
        Matcher m = QUEUED.matcher(r.output());
        assertTrue(m.find(), r.output());
        return m.group(1);
    }

    private static ItSupport.Result estafeta(Path conf, Path var, String... args) throws Exception {
        return ItSupport.estafeta(conf, var, args);
    }
}
