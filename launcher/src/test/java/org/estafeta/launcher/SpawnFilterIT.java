package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.estafeta.testing.Dnsmasq;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tutorial section 6.3's second variant: the SMTP content filter is not a daemon of its own but a program that
 * master.cf's {@code spawn} service starts for each connection to localhost:10025 ({@code localhost:10025 inet n n n
 * - 10 spawn user=seguro argv=/path/scan localhost 10026}), here with test ports, {@code user=nobody} and a small
 * Python filter that speaks SMTP on its standard input and output, adds {@code X-Filtered-By: spawn-test}, re-injects
 * each message with smtplib into the {@code -o content_filter=} listener and answers 250 only once that succeeded.
 * Postfix's smtp-sink is the final destination and keeps each message in a file.
 */
class SpawnFilterIT {
    static final int SMTP_PORT = 27611;
    static final int SINK_PORT = 27612;
    static final int FILTER_PORT = 27613;
    static final int REINJECT_PORT = 27614;

    /** Counts what it filtered in seen/filtered.log; a recipient crash@… makes it fail with exit status 3. */
    static final String FILTER = String.join("\n",
            "#!/usr/bin/python3",
            "import os, smtplib, sys",
            "host, port = sys.argv[1], int(sys.argv[2])",
            "inp, out = sys.stdin.buffer, sys.stdout.buffer",
            "def reply(*lines):",
            "    out.write(b''.join(l.encode() + b'\\r\\n' for l in lines))",
            "    out.flush()",
            "def arg(cmd):",
            "    return cmd.split(':', 1)[1].strip().split(' ')[0].strip('<>')",
            "reply('220 filter.test ESMTP spawn-test')",
            "sender, rcpts = None, []",
            "while True:",
            "    line = inp.readline()",
            "    if not line:",
            "        sys.exit(0)",
            "    cmd = line.decode('ascii', 'replace').strip()",
            "    verb = cmd[:4].upper()",
            "    if verb == 'EHLO':",
            "        reply('250-filter.test', '250 8BITMIME')",
            "    elif verb == 'HELO':",
            "        reply('250 filter.test')",
            "    elif verb == 'MAIL':",
            "        sender, rcpts = arg(cmd), []",
            "        reply('250 2.1.0 Ok')",
            "    elif verb == 'RCPT':",
            "        rcpt = arg(cmd)",
            "        if rcpt.startswith('crash@'):",
            "            reply('451 4.3.0 filter failure')",
            "            sys.exit(3)",
            "        rcpts.append(rcpt)",
            "        reply('250 2.1.5 Ok')",
            "    elif verb == 'DATA':",
            "        reply('354 End data with <CR><LF>.<CR><LF>')",
            "        lines = []",
            "        while True:",
            "            l = inp.readline()",
            "            if not l:",
            "                sys.exit(1)",
            "            if l in (b'.\\r\\n', b'.\\n'):",
            "                break",
            "            lines.append(l[1:] if l.startswith(b'.') else l)",
            "        data = b'X-Filtered-By: spawn-test\\r\\n' + b''.join(lines)",
            "        try:",
            "            with smtplib.SMTP(host, port) as s:",
            "                s.sendmail(sender, rcpts, data)",
            "        except Exception as e:",
            "            reply('451 4.3.0 reinjection failed: %s' % str(e).replace('\\n', ' '))",
            "            continue",
            "        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seen', 'filtered.log'), 'a') as f:",
            "            f.write('filtered %s uid=%d\\n' % (','.join(rcpts), os.getuid()))",
            "        reply('250 2.0.0 Ok: filtered and reinjected')",
            "    elif verb in ('RSET', 'NOOP'):",
            "        reply('250 2.0.0 Ok')",
            "    elif verb == 'QUIT':",
            "        reply('221 2.0.0 Bye')",
            "        sys.exit(0)",
            "    else:",
            "        reply('502 5.5.2 Error: command not recognized')",
            "");

    @TempDir
    Path tmp;

    Path dumps;
    Path script;
    Path seen;
    Process sink;
    Dnsmasq dns;
    Gateway gw;

    @BeforeEach
    void start() throws Exception {
        requirePeer("/usr/sbin/smtp-sink", "postfix");
        requirePeer("/usr/bin/python3", "python3");
        requirePeer("/usr/bin/setpriv", "util-linux");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        dumps = Files.createDirectories(tmp.resolve("sink"));
        Path filterDir = Files.createDirectories(tmp.resolve("filter"));
        seen = Files.createDirectories(filterDir.resolve("seen"));
        for (Path p : List.of(dumps, seen)) {
            assertEquals(0, new ProcessBuilder("chown", "nobody", p.toString()).inheritIO().start().waitFor());
        }
        script = filterDir.resolve("filter.py");
        Files.writeString(script, FILTER);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        sink = new ProcessBuilder("/usr/sbin/smtp-sink", "-u", "nobody", "-d", dumps + "/%M.",
                "127.0.0.1:" + SINK_PORT, "64").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        // the smtp transport looks up "localhost" (MX, then A) as Postfix does: a private name server answers
        dns = EstafetaTarget.dnsmasq(List.of("--host-record=localhost,127.0.0.1", "--mx-host=localhost,localhost,10"));
        gw = EstafetaTarget.start(tmp, String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = spawn-host.estafeta.test",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "relayhost = [127.0.0.1]:" + SINK_PORT,
                "estafeta_dns_servers = " + dns.server(),
                "# CONTROL DE CORREO ENTRANTE / SALIENTE",
                "content_filter = scan:localhost:" + FILTER_PORT,
                ""), String.join("\n",
                "localhost:" + REINJECT_PORT + " inet      n        -        n        -        10        smtpd",
                "        -o content_filter=",
                "127.0.0.1:" + SMTP_PORT + "      inet  n       -       n       -       -       smtpd",
                "qmgr      unix  n       -       n       300     1       qmgr",
                "smtp      unix  -       -       n       -       -       smtp",
                "scan    unix -       -       n       -       10     smtp",
                "localhost:" + FILTER_PORT + " inet      n        n        n        -        10       spawn",
                "        user=nobody argv=" + script + " localhost " + REINJECT_PORT,
                ""));
        EstafetaTarget.awaitListener(SMTP_PORT);
        EstafetaTarget.awaitListener(REINJECT_PORT);
        EstafetaTarget.awaitListener(FILTER_PORT); // a filter starts, sees end of file and exits 0
    }

    @AfterEach
    void stop() throws Exception {
        if (gw != null) {
            gw.stop();
        }
        if (dns != null) {
            dns.close();
        }
        if (sink != null) {
            sink.destroy();
            sink.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void mailGoesThroughTheSpawnedFilterOnceAndOnToItsDestination() throws Exception {
        Swaks.Transcript t = Swaks.run(SMTP_PORT, "--from", "ana@example.org", "--to", "pepe@example.net",
                "--header", "Subject: to be filtered by a spawned program");
        Matcher m = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)").matcher(t.last("250 2.0.0"));
        assertTrue(m.find(), t.serverLines().toString());
        String id = m.group(1);
        Gateway g = gw;
        assertTrue(ItSupport.waitFor(() -> count(dumps) >= 1, 60), "nothing arrived: " + ItSupport.maillog(g));
        Thread.sleep(1500); // a loop would bring a second copy, or a second pass through the filter
        assertEquals(1, count(dumps), "exactly one copy: " + ItSupport.maillog(gw));
        String arrived;
        try (Stream<Path> s = Files.list(dumps)) {
            arrived = Files.readString(s.findFirst().orElseThrow(), StandardCharsets.ISO_8859_1);
        }
        assertEquals(1, arrived.split("X-Filtered-By: spawn-test", -1).length - 1, "filtered once: " + arrived);
        assertTrue(arrived.contains("Subject: to be filtered by a spawned program"), arrived);
        assertEquals(List.of("filtered pepe@example.net uid=65534"), Files.readAllLines(seen.resolve("filtered.log")),
                "the filter ran once, as nobody");
        String log = ItSupport.maillog(gw);
        assertTrue(log.contains(id + ": to=<pepe@example.net>, relay=localhost[127.0.0.1]:" + FILTER_PORT), log);
        assertTrue(Pattern.compile("to=<pepe@example\\.net>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + SINK_PORT
                + ", .*status=sent").matcher(log).find(), "the filtered copy went on to its destination: " + log);
        assertFalse(log.contains("spawn["), "a filter that exits 0 is not logged: " + log);
    }

    @Test
    void aFilterThatExitsNonZeroIsLoggedAndTheMailDeferred() throws Exception {
        Swaks.Transcript t = Swaks.run(SMTP_PORT, "--from", "ana@example.org", "--to", "crash@example.net",
                "--header", "Subject: makes the filter fail");
        assertTrue(t.last("250 2.0.0").contains("queued as"), t.serverLines().toString());
        Gateway g = gw;
        Pattern warning = Pattern.compile("spawn\\[\\d+\\]: warning: command " + Pattern.quote(script.toString())
                + " exit status 3");
        assertTrue(ItSupport.waitFor(() -> warning.matcher(ItSupport.maillog(g)).find(), 60),
                "no warning: " + ItSupport.maillog(g));
        assertTrue(ItSupport.waitFor(() -> ItSupport.maillog(g).contains("to=<crash@example.net>, relay=localhost"
                + "[127.0.0.1]:" + FILTER_PORT), 30), ItSupport.maillog(g));
        String log = ItSupport.maillog(gw);
        assertTrue(Pattern.compile("to=<crash@example\\.net>, relay=localhost\\[127\\.0\\.0\\.1\\]:" + FILTER_PORT
                + ", .*status=deferred \\(host localhost\\[127\\.0\\.0\\.1\\] said: 451 4\\.3\\.0 filter failure")
                .matcher(log).find(), log);
        assertEquals(0, count(dumps), "nothing reached the destination");
    }

    private static long count(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
