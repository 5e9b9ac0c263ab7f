package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.estafeta.testing.Peers;
import org.estafeta.testing.PrivatePostfix;
import org.estafeta.testing.Swaks;

/**
 * What the {@code TutorialDelivery*IT} classes share: Postfix's smtp-sink standing in for the tutorial's hosts on
 * 127.0.0.x:25 (the {@code [host]} form and MX delivery always use port 25), messages numbered with an
 * {@code X-Seq} header, and the gateway side of a send.
 *
 * <p>Address plan (only 127.0.0.10-127.0.0.40 and ports 27170-27199 are used):
 * <pre>
 * 127.0.0.11  smtp.univ.es           127.0.0.15  mx1.backup.test (nothing listens: connection refused)
 * 127.0.0.12  smtp.depart1.univ.es   127.0.0.16  mx2.backup.test
 * 127.0.0.13  smtp.depart2.univ.es   127.0.0.17  the senders' own post office (bounces arrive there)
 * 127.0.0.14  mx.foreign.test        127.0.0.18  smtp.fund-univ.es
 * 127.0.0.20  relay.univ.es (the smarthost of section 2.2)
 * 127.0.0.30  a client outside mynetworks
 * </pre>
 */
final class TutorialDelivery {
    static final String SMTP_SINK = "/usr/sbin/smtp-sink";
    /** Pid files of the sinks, so that a sink left behind by a killed test run is stopped by the next run. */
    static final Path SINK_PIDS = Path.of("/var/tmp/estafeta-tutorial-sinks");
    static final Pattern QUEUED = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)");
    static final Pattern SEQ = Pattern.compile("(?m)^X-Seq: (\\S+?)\r?$");
    static final Pattern RCPT = Pattern.compile("(?m)^X-Rcpt-Args: <([^>]*)>");

    /** master.cf's delivery services, from Debian's stock file (what an operator brings along). */
    static final String DELIVERY_SERVICES = String.join("\n",
            "qmgr      unix  n       -       n       300     1       qmgr",
            "smtp      unix  -       -       n       -       -       smtp",
            "relay     unix  -       -       n       -       -       smtp",
            "error     unix  -       -       n       -       -       error",
            "retry     unix  -       -       n       -       -       error",
            "discard   unix  -       -       n       -       -       discard",
            "local     unix  -       n       n       -       -       local",
            "virtual   unix  -       n       n       -       -       virtual",
            "");

    private TutorialDelivery() {
    }

    /** One message as smtp-sink dumped it: its X-Seq and the envelope recipients it got. */
    record Arrival(String seq, List<String> recipients, String text) {
    }

    /** A host of the tutorial that receives mail: what arrived there, by X-Seq. */
    interface Office extends AutoCloseable {
        List<Arrival> arrivals();

        /** X-Seq → envelope recipients, in order of X-Seq (several copies of one X-Seq are all listed). */
        default TreeMap<String, List<String>> bySeq() {
            TreeMap<String, List<String>> m = new TreeMap<>();
            for (Arrival a : arrivals()) {
                m.computeIfAbsent(a.seq(), k -> new ArrayList<>()).addAll(a.recipients());
            }
            return m;
        }

        void clear() throws IOException;

        @Override
        void close();
    }

    /**
     * A real Postfix (Debian's, {@link PrivatePostfix}) as one of the tutorial's post offices on {@code address}:25:
     * it accepts mail for the given domains and stores it with its virtual(8) agent in one Maildir per given address,
     * {@code maildirs/DOMAIN/USER/}; the envelope recipient is its {@code Delivered-To:} header.
     */
    static final class PostfixOffice implements Office {
        private static final Pattern DELIVERED_TO = Pattern.compile("(?m)^Delivered-To: (\\S+?)\r?$");
        final String name;
        private final PrivatePostfix postfix;
        private final Path maildirs;

        private PostfixOffice(String name, PrivatePostfix postfix, Path maildirs) {
            this.name = name;
            this.postfix = postfix;
            this.maildirs = maildirs;
        }

        static PostfixOffice start(String instance, String hostname, String address, String domains,
                List<String> mailboxes) throws Exception {
            PrivatePostfix.Builder b = PrivatePostfix.builder(instance);
            Path maildirs = b.directory().resolve("maildirs");
            b.mainCf(String.join("\n",
                    "compatibility_level = 3.6",
                    "myhostname = " + hostname,
                    "mydestination =",
                    "mynetworks = 127.0.0.0/8",
                    "virtual_mailbox_domains = " + domains,
                    "virtual_mailbox_base = " + maildirs,
                    "virtual_mailbox_maps = texthash:" + b.directory().resolve("boxes"),
                    "virtual_uid_maps = static:65534",
                    "virtual_gid_maps = static:65534",
                    ""))
                    .masterCf(address + ":25 inet n - n - - smtpd\n")
                    // virtual(8) allows no regexp substitution in its maps: one line per address
                    .file("boxes", mailboxes.stream().map(m -> m + " " + m.substring(m.indexOf('@') + 1) + "/"
                            + m.substring(0, m.indexOf('@')) + "/\n").reduce("", String::concat));
            PrivatePostfix pf = b.start();
            Files.createDirectories(maildirs);
            new ProcessBuilder("chown", "65534:65534", maildirs.toString()).inheritIO().start().waitFor();
            return new PostfixOffice(hostname, pf, maildirs);
        }

        @Override
        public List<Arrival> arrivals() {
            List<Arrival> out = new ArrayList<>();
            if (!Files.isDirectory(maildirs)) {
                return out;
            }
            try (Stream<Path> files = Files.walk(maildirs)) {
                for (Path f : files.filter(p -> Files.isRegularFile(p) && p.getParent().getFileName().toString()
                        .equals("new")).sorted().toList()) {
                    String text = Files.readString(f, StandardCharsets.ISO_8859_1);
                    Matcher m = SEQ.matcher(text);
                    Matcher d = DELIVERED_TO.matcher(text);
                    out.add(new Arrival(m.find() ? m.group(1) : "(none)", d.find() ? List.of(d.group(1)) : List.of(),
                            text));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return out;
        }

        @Override
        public void clear() throws IOException {
            if (!Files.isDirectory(maildirs)) {
                return;
            }
            // the Maildirs stay; only their messages go
            try (Stream<Path> files = Files.walk(maildirs)) {
                for (Path f : files.filter(p -> Files.isRegularFile(p)).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }

        String maillog() {
            return postfix.maillog();
        }

        @Override
        public void close() {
            postfix.close();
        }

        @Override
        public String toString() {
            return name + " (Postfix) " + bySeq();
        }
    }

    /** A real smtp-sink on {@code address}:25 that dumps every transaction into its own directory. */
    static final class Sink implements Office {
        final String name;
        final String address;
        final Path dir;
        private final Process process;

        private Sink(String name, String address, Path dir, Process process) {
            this.name = name;
            this.address = address;
            this.dir = dir;
            this.process = process;
        }

        /** Starts {@code smtp-sink -u nobody -d DIR/%M. ADDRESS:25 64} and waits until it accepts connections. */
        static Sink start(Path base, String name, String address) throws Exception {
            Peers.require(SMTP_SINK, "postfix");
            Path dir = Files.createDirectories(base.resolve(name));
            openForOthers(base);
            // smtp-sink writes as nobody
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            stopStale(address);
            Process p = new ProcessBuilder(SMTP_SINK, "-u", "nobody", "-d", dir + "/%M.", address + ":25", "64")
                    .redirectErrorStream(true).redirectOutput(base.resolve(name + ".log").toFile()).start();
            Files.createDirectories(SINK_PIDS);
            Files.writeString(SINK_PIDS.resolve(address + ".pid"), Long.toString(p.pid()));
            Sink s = new Sink(name, address, dir, p);
            boolean up = ItSupport.waitFor(() -> {
                try (Socket c = new Socket()) {
                    c.connect(new InetSocketAddress(address, 25), 500);
                    return true;
                } catch (IOException e) {
                    return !p.isAlive();
                }
            }, 10);
            if (!up || !p.isAlive()) {
                String log = Files.readString(base.resolve(name + ".log"));
                s.close();
                throw new AssertionError("smtp-sink does not listen on " + address + ":25 (is the port taken?): " + log);
            }
            return s;
        }

        /** Stops the smtp-sink on ADDRESS:25 that an earlier, killed run recorded in its pid file (only that one). */
        private static void stopStale(String address) throws Exception {
            Path pidFile = SINK_PIDS.resolve(address + ".pid");
            if (!Files.exists(pidFile)) {
                return;
            }
            long pid;
            try {
                pid = Long.parseLong(Files.readString(pidFile).strip());
            } catch (NumberFormatException e) {
                return;
            }
            var stale = ProcessHandle.of(pid).filter(h -> h.info().commandLine()
                    .map(c -> c.contains("smtp-sink") && c.contains(" " + address + ":25 ")).orElse(false));
            if (stale.isPresent()) {
                stale.get().destroy();
                stale.get().onExit().get(5, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(pidFile);
        }

        /** Forgets what arrived so far (each test starts with empty sinks). */
        @Override
        public void clear() throws IOException {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }

        /** What arrived so far, by X-Seq. */
        @Override
        public List<Arrival> arrivals() {
            List<Arrival> out = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    String text = Files.readString(f, StandardCharsets.ISO_8859_1);
                    Matcher m = SEQ.matcher(text);
                    List<String> rcpts = new ArrayList<>();
                    Matcher r = RCPT.matcher(text);
                    while (r.find()) {
                        rcpts.add(r.group(1));
                    }
                    out.add(new Arrival(m.find() ? m.group(1) : "(none)", rcpts, text));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return out;
        }

        @Override
        public void close() {
            try {
                Files.deleteIfExists(SINK_PIDS.resolve(address + ".pid"));
            } catch (IOException e) {
                // only a hint for the next run
            }
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public String toString() {
            return name + "@" + address + ":25 " + bySeq();
        }
    }

    /** Closes every sink, ignoring nulls. */
    static void closeAll(List<? extends Office> sinks) {
        for (Office s : sinks) {
            if (s != null) {
                s.close();
            }
        }
    }

    /** Makes {@code dir} and its parents up to / traversable by other users (smtp-sink and pipe commands). */
    static void openForOthers(Path dir) throws IOException {
        for (Path p = dir.toAbsolutePath(); p != null && p.getNameCount() > 0; p = p.getParent()) {
            var perms = Files.getPosixFilePermissions(p);
            if (!perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
                perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
                Files.setPosixFilePermissions(p, perms);
            }
        }
    }

    /**
     * Sends one message with swaks to the gateway on 127.0.0.1:{@code port} from {@code client} (a local address),
     * numbered by an {@code X-Seq} header; returns the queue ID.
     */
    static String send(int port, String client, String from, String to, String seq, String... extraHeaders)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("--local-interface", client, "--ehlo", "client.univ.es",
                "--from", from, "--to", to, "--header", "Subject: tutorial message " + seq,
                "--add-header", "X-Seq: " + seq, "--body", "message " + seq + " of the tutorial's setups"));
        for (String h : extraHeaders) {
            args.addAll(List.of("--add-header", h));
        }
        Swaks.Transcript t = Swaks.run(port, args.toArray(String[]::new));
        String last = t.last("250 2.0.0");
        Matcher m = QUEUED.matcher(last == null ? "" : last);
        assertTrue(m.find(), "not queued: " + t.result().output());
        return m.group(1);
    }

    /** The reply to RCPT TO:{@code rcpt} in a session from {@code client} that stops after RCPT. */
    static String rcptReply(int port, String client, String rcpt) throws Exception {
        Swaks.Transcript t = Swaks.run(port, "--local-interface", client, "--ehlo", "client.example",
                "--from", "sender@client.example", "--to", rcpt, "--quit-after", "RCPT");
        List<String> s = t.serverLines();
        return s.size() < 2 ? s.toString() : s.get(s.size() - 2);
    }

    /** Waits until the maillog has a line with {@code id: to=<rcpt>} and a final status; returns that line. */
    static String awaitStatus(Path maillog, String id, String rcpt, int seconds) throws InterruptedException {
        String needle = id + ": to=<" + rcpt + ">";
        String[] found = new String[1];
        ItSupport.waitFor(() -> {
            for (String l : read(maillog).split("\n")) {
                if (l.contains(needle) && l.contains("status=")) {
                    found[0] = l;
                    return true;
                }
            }
            return false;
        }, seconds);
        assertTrue(found[0] != null, "no delivery status for " + needle + " in\n" + read(maillog));
        return found[0];
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** Builds the indexed table next to {@code source} with the distribution's {@code estafeta postmap}. */
    static void postmap(Path conf, Path var, Path source) throws Exception {
        ItSupport.Result r = ItSupport.estafeta(conf, var, "postmap", source.toString());
        assertEquals(0, r.exit(), "estafeta postmap " + source + ": " + r.output());
        assertTrue(Files.exists(Path.of(source + ".db")), "no " + source + ".db after postmap: " + r.output());
    }
}
