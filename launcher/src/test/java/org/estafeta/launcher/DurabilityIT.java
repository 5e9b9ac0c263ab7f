package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Postfix's promise, tested the hard way: 1,000 numbered messages are sent to a gateway running as its own process
 * (the distribution's {@code estafeta start}); in the middle of the run it is killed with SIGKILL, restarted, and the
 * rest of the run is sent. Every message that got a {@code 250} must arrive at the sink (Postfix's smtp-sink, which
 * writes each message to a file); duplicates (delivered, then killed before the queue file was removed) are
 * counted and reported, not failed.
 */
class DurabilityIT {
    static final int SMTPD_PORT = 27150;
    static final int SINK_PORT = 27151;
    static final int TOTAL = 1000;
    static final int KILL_AFTER = 300;
    static final Pattern SEQ = Pattern.compile("(?m)^X-Seq: (\\d+)\r?$");

    @TempDir
    Path tmp;

    @Test
    void killNineInTheMiddleOfARunLosesNoAcknowledgedMessage() throws Exception {
        requirePeer("/usr/sbin/smtp-sink", "postfix");
        // smtp-sink writes as nobody: the path to its directory must be traversable by others
        Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dumps = Files.createDirectories(tmp.resolve("sink"));
        new ProcessBuilder("chown", "nobody", dumps.toString()).inheritIO().start().waitFor();
        Process sink = new ProcessBuilder("/usr/sbin/smtp-sink", "-u", "nobody", "-d", dumps + "/%M.",
                "127.0.0.1:" + SINK_PORT, "256").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Path var = Files.createDirectories(tmp.resolve("var"));
        Files.writeString(conf.resolve("main.cf"), String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = durable.estafeta.test",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "relayhost = [127.0.0.1]:" + SINK_PORT,
                ""));
        Files.writeString(conf.resolve("master.cf"), String.join("\n",
                "127.0.0.1:" + SMTPD_PORT + " inet n - n - - smtpd",
                "qmgr      unix  n       -       n       300     1       qmgr",
                "smtp      unix  -       -       n       -       -       smtp",
                ""));
        Set<Integer> acked = ConcurrentHashMap.newKeySet();
        AtomicInteger next = new AtomicInteger(1);
        try {
            ItSupport.Result started = ItSupport.estafeta(conf, var, "-f", "minimal", "start");
            assertEquals(0, started.exit(), started.output());

            // phase 1: four sessions send until the gateway dies under them
            AtomicBoolean killed = new AtomicBoolean();
            List<Thread> senders = senders(4, next, acked, () -> killed.get());
            assertTrue(ItSupport.waitFor(() -> acked.size() >= KILL_AFTER, 120), "only " + acked.size() + " acked");
            long pid = Long.parseLong(Files.readString(var.resolve("spool/pid/master.pid")).trim());
            new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start().waitFor();
            killed.set(true);
            for (Thread t : senders) {
                t.join(60_000);
            }
            int ackedBeforeKill = acked.size();
            assertTrue(ItSupport.waitFor(() -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), 30));

            // phase 2: restart, send the rest of the run
            ItSupport.Result restarted = ItSupport.estafeta(conf, var, "-f", "minimal", "start");
            assertEquals(0, restarted.exit(), restarted.output());
            List<Thread> rest = senders(4, next, acked, () -> false);
            for (Thread t : rest) {
                t.join(300_000);
            }
            assertTrue(next.get() > TOTAL, "the run did not complete: " + next.get());

            // every acknowledged message arrives
            assertTrue(ItSupport.waitFor(() -> received(dumps).keySet().containsAll(acked), 300),
                    "missing at the sink: " + missing(acked, received(dumps)));
            Map<Integer, Integer> counts = received(dumps);
            long duplicates = counts.values().stream().filter(c -> c > 1).count();
            System.out.printf("DurabilityIT: %d acknowledged (%d before the kill), %d distinct arrived, %d duplicated%n",
                    acked.size(), ackedBeforeKill, counts.size(), duplicates);
            assertTrue(missing(acked, counts).isEmpty(), "lost: " + missing(acked, counts));
        } finally {
            ItSupport.estafeta(conf, var, "stop");
            sink.destroy();
            sink.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Starts {@code n} sender threads taking sequence numbers from {@code next} up to TOTAL. */
    private static List<Thread> senders(int n, AtomicInteger next, Set<Integer> acked,
            java.util.function.BooleanSupplier stop) {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> send(next, acked, stop), "durability-sender-" + i);
            t.start();
            threads.add(t);
        }
        return threads;
    }

    private static void send(AtomicInteger next, Set<Integer> acked, java.util.function.BooleanSupplier stop) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", SMTPD_PORT), 5000);
            s.setSoTimeout(60_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            expect(in, "220");
            cmd(out, "EHLO durability.test");
            expect(in, "250");
            while (!stop.getAsBoolean()) {
                int seq = next.getAndIncrement();
                if (seq > TOTAL) {
                    break;
                }
                cmd(out, "MAIL FROM:<sender@durability.test>");
                expect(in, "250");
                cmd(out, "RCPT TO:<rcpt" + (seq % 7) + "@sink.test>");
                expect(in, "250");
                cmd(out, "DATA");
                expect(in, "354");
                out.write(("Subject: durability " + seq + "\r\nX-Seq: " + seq + "\r\n\r\n"
                        + "body of message " + seq + "\r\n".repeat(1) + ".\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String reply = expect(in, "250");
                if (reply.startsWith("250 2.0.0 Ok: queued as ")) {
                    acked.add(seq);
                }
            }
            cmd(out, "QUIT");
        } catch (IOException e) {
            // the gateway was killed under this session: what was not acknowledged may be lost, by design
        }
    }

    private static void cmd(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Reads one (possibly multi-line) reply; throws unless it starts with {@code code}. */
    private static String expect(BufferedReader in, String code) throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed");
            }
        } while (line.length() > 3 && line.charAt(3) == '-');
        if (!line.startsWith(code)) {
            throw new IOException("unexpected reply: " + line);
        }
        return line;
    }

    /** Sequence number → how many times it arrived. */
    private static Map<Integer, Integer> received(Path dumps) {
        Map<Integer, Integer> counts = new TreeMap<>();
        try (Stream<Path> files = Files.list(dumps)) {
            for (Path f : files.toList()) {
                try {
                    Matcher m = SEQ.matcher(Files.readString(f, StandardCharsets.ISO_8859_1));
                    if (m.find()) {
                        counts.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
                    }
                } catch (IOException e) {
                    // being written right now: counted at the next look
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return counts;
    }

    private static List<Integer> missing(Set<Integer> acked, Map<Integer, Integer> arrived) {
        return acked.stream().filter(s -> !arrived.containsKey(s)).sorted().limit(20).toList();
    }
}
