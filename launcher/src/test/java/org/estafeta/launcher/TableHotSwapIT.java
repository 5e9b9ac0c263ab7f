package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.estafeta.launcher.ItSupport.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6: a table bundle removed from deploy/ while mail flows. The gateway routes {@code example.net} through
 * {@code transport_maps = json:FILE} (the sample plugin) to Postfix's smtp-sink. With the bundle in deploy/ mail
 * arrives; once it is removed, mail that needs the table is not lost and not misrouted — it waits (accepted and
 * deferred, or refused with a 4xx the client retries); once the jar is back, {@code postqueue -f} delivers what
 * waited. Every message arrives exactly once.
 */
class TableHotSwapIT {
    static final int SMTP_PORT = 26841;
    static final int SINK_PORT = 26842;

    @TempDir
    Path tmp;

    @Test
    void mailThatNeedsAMissingTableWaitsAndIsDeliveredOnceTheTableIsBack() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        SmtpSink sink = SmtpSink.start(tmp, "sink", SINK_PORT);
        Path dumps = sink.dir;
        Path table = tmp.resolve("transport.json");
        Files.writeString(table, "{ \"example.net\": \"smtp:[127.0.0.1]:" + SINK_PORT + "\" }\n");
        Gateway gw = null;
        try {
            gw = EstafetaTarget.start(tmp, String.join("\n",
                    "compatibility_level = 3.6",
                    "myhostname = gw.estafeta.test",
                    "mydestination =",
                    "mynetworks = 127.0.0.0/8",
                    "relay_domains = example.net",
                    "transport_maps = json:" + table,
                    "minimal_backoff_time = 1h",
                    ""), String.join("\n",
                    "127.0.0.1:" + SMTP_PORT + " inet n - n - - smtpd",
                    "qmgr unix n - n 300 1 qmgr",
                    "smtp unix - - n - - smtp",
                    "error unix - - n - - error",
                    "retry unix - - n - - error",
                    ""));
            EstafetaTarget.awaitListener(SMTP_PORT);
            Path jar = Path.of(System.getProperty("estafeta.sample.plugin"));
            Path deployed = gw.deployDirectory().resolve(jar.getFileName());
            deploy(jar, deployed);
            Gateway g = gw;
            assertTrue(waitFor(() -> lookupWorks(g), 30), "the json table never answered");

            // 1. the table is there: mail arrives
            List<Integer> waiting = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                send(i, waiting);
            }
            assertTrue(waiting.isEmpty(), "refused while the table was there: " + waiting);
            assertTrue(waitFor(() -> arrived(dumps).size() == 5, 60), "arrived: " + arrived(dumps));

            // 2. the bundle leaves deploy/ while mail flows: nothing is delivered, nothing is lost
            Files.delete(deployed);
            assertTrue(waitFor(() -> !lookupWorks(g), 30), "the json table still answers after removal");
            for (int i = 6; i <= 10; i++) {
                send(i, waiting);
            }
            Thread.sleep(3000); // the queue manager had its chance to (wrongly) deliver or bounce
            assertEquals(5, arrived(dumps).size(), "delivered without its table: " + arrived(dumps));
            String queue = ItSupport.estafeta(tmp.resolve("conf"), tmp.resolve("var"), "postqueue", "-p").output();
            String maillog = ItSupport.maillog(gw);
            // smtpd accepted them (nothing in its checks needs transport_maps here); each waits in the queue with the reason
            int deferred = queue.split("transport_maps lookup failure: json:", -1).length - 1;
            assertEquals(5 - waiting.size(), deferred, queue);
            assertTrue(deferred == 0 || queue.contains("dictionary type json went away"), queue);
            assertTrue(!maillog.contains("status=bounced"), "a message bounced for a missing table:\n" + maillog);

            // 3. the jar is back: what waited is delivered, once
            deploy(jar, deployed);
            assertTrue(waitFor(() -> lookupWorks(g), 30), "the json table did not come back");
            for (int i : List.copyOf(waiting)) {
                waiting.remove(Integer.valueOf(i));
                send(i, waiting); // the client's retry of a 4xx
            }
            assertTrue(waiting.isEmpty(), "still refused with the table back: " + waiting);
            ItSupport.estafeta(tmp.resolve("conf"), tmp.resolve("var"), "postqueue", "-f");
            assertTrue(waitFor(() -> arrived(dumps).size() == 10, 60),
                    "arrived: " + arrived(dumps) + "\nqueue while the table was gone:\n" + queue + "\n" + ItSupport.maillog(gw));
            Map<Integer, Integer> counts = arrived(dumps);
            for (int i = 1; i <= 10; i++) {
                assertEquals(1, counts.getOrDefault(i, 0), "message " + i + ": " + counts);
            }
        } finally {
            if (gw != null) {
                gw.stop();
            }
            sink.close();
        }
    }

    private static void deploy(Path jar, Path deployed) throws IOException {
        Path partial = deployed.resolveSibling(".json-table.tmp");
        Files.copy(jar, partial, StandardCopyOption.REPLACE_EXISTING);
        Files.move(partial, deployed, StandardCopyOption.ATOMIC_MOVE);
    }

    private boolean lookupWorks(Gateway gw) {
        try {
            return ItSupport.estafeta(tmp.resolve("conf"), tmp.resolve("var"), "postmap", "-q", "example.net",
                    "json:" + tmp.resolve("transport.json")).exit() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** Sends message {@code n}; a 4xx refusal puts it on the client's retry list. */
    private static void send(int n, List<Integer> waiting) throws Exception {
        Swaks.Transcript t = Swaks.run(SMTP_PORT, "--from", "ana@example.org", "--to", "pepe@example.net",
                "--header", "Subject: hot-swap " + n, "--body", "message " + n);
        String out = t.result().output();
        if (out.contains("250 2.0.0 Ok: queued as")) {
            return;
        }
        assertTrue(out.matches("(?s).*\\n<\\*\\* 4\\d\\d .*"), "neither queued nor a temporary refusal:\n" + out);
        waiting.add(n);
    }

    /** Message number to how many copies the sink holds. */
    private static Map<Integer, Integer> arrived(Path dumps) {
        Map<Integer, Integer> counts = new TreeMap<>();
        try (Stream<Path> files = Files.list(dumps)) {
            for (Path f : files.toList()) {
                String text = Files.readString(f);
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("Subject: hot-swap (\\d+)").matcher(text);
                if (m.find()) {
                    counts.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
                }
            }
        } catch (IOException e) {
            return counts;
        }
        return counts;
    }
}
