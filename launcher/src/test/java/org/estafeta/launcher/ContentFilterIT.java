package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tutorial section 6.3, the advanced content filter, with its main.cf line and master.cf entries verbatim (the public
 * {@code smtp} listener moved from port 25 to a test port): {@code content_filter = scan:localhost:10025} sends every
 * message through the {@code scan} smtp service to an SMTP-speaking filter on localhost:10025 (here a small Python
 * proxy that adds a header), which returns it on {@code localhost:10026}, whose {@code -o content_filter=} keeps it
 * from looping; then it goes on to its destination (Postfix's smtp-sink, which keeps each message in a file).
 */
class ContentFilterIT {
    static final int SMTP_PORT = 27195;
    static final int SINK_PORT = 27196;
    static final String FILTER = String.join("\n",
            "import smtpd, asyncore, smtplib, sys",
            "class Scan(smtpd.SMTPServer):",
            "    def process_message(self, peer, mailfrom, rcpttos, data, **kw):",
            "        body = b'X-Scanned: by the test filter\\r\\n' + data",
            "        try:",
            "            with smtplib.SMTP('127.0.0.1', 10026) as s:",
            "                s.sendmail(mailfrom, rcpttos, body)",
            "        except Exception as e:",
            "            return '451 4.3.0 reinjection failed: %s' % e",
            "        return None",
            "Scan(('127.0.0.1', 10025), None, decode_data=False)",
            "print('listening', flush=True)",
            "asyncore.loop()",
            "");

    @TempDir
    Path tmp;

    @Test
    void mailGoesThroughTheFilterOnceAndOnToItsDestination() throws Exception {
        requirePeer("/usr/sbin/smtp-sink", "postfix");
        requirePeer("/usr/bin/python3", "python3");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dumps = Files.createDirectories(tmp.resolve("sink"));
        new ProcessBuilder("chown", "nobody", dumps.toString()).inheritIO().start().waitFor();
        Path script = tmp.resolve("scan.py");
        Files.writeString(script, FILTER);
        Process sink = new ProcessBuilder("/usr/sbin/smtp-sink", "-u", "nobody", "-d", dumps + "/%M.",
                "127.0.0.1:" + SINK_PORT, "64").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Process filter = new ProcessBuilder("/usr/bin/python3", "-W", "ignore", script.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("filter.log").toFile()).start();
        Dnsmasq dns = null;
        Gateway gw = null;
        try {
            // the smtp transport looks up "localhost" (MX, then A) as Postfix does: a private name server answers
            dns = EstafetaTarget.dnsmasq(List.of("--host-record=localhost,127.0.0.1", "--mx-host=localhost,localhost,10"));
            assertTrue(ItSupport.waitFor(() -> {
                try {
                    return Files.readString(tmp.resolve("filter.log")).contains("listening");
                } catch (java.io.IOException e) {
                    return false;
                }
            }, 20), "the filter did not start");
            gw = EstafetaTarget.start(tmp, String.join("\n",
                    "compatibility_level = 3.6",
                    "myhostname = filter-host.estafeta.test",
                    "mydestination =",
                    "mynetworks = 127.0.0.0/8",
                    "relayhost = [127.0.0.1]:" + SINK_PORT,
                    "estafeta_dns_servers = " + dns.server(),
                    "# CONTROL DE CORREO ENTRANTE / SALIENTE",
                    "content_filter = scan:localhost:10025",
                    ""), String.join("\n",
                    "localhost:10026 inet    n        -        n        -        -        smtpd",
                    "      -o content_filter=",
                    "127.0.0.1:" + SMTP_PORT + "      inet  n       -       n       -       -       smtpd",
                    "qmgr      unix  n       -       n       300     1       qmgr",
                    "smtp      unix  -       -       n       -       -       smtp",
                    "scan    unix -       -       n       -       10     smtp",
                    ""));
            EstafetaTarget.awaitListener(SMTP_PORT);
            EstafetaTarget.awaitListener(10026);
            Swaks.Transcript t = Swaks.run(SMTP_PORT, "--from", "ana@example.org", "--to", "pepe@example.net",
                    "--header", "Subject: to be scanned");
            Matcher m = Pattern.compile("250 2\\.0\\.0 Ok: queued as (\\S+)").matcher(t.last("250 2.0.0"));
            assertTrue(m.find(), t.serverLines().toString());
            String id = m.group(1);
            Gateway g = gw;
            assertTrue(ItSupport.waitFor(() -> count(dumps) >= 1, 60), "nothing arrived: " + ItSupport.maillog(g));
            Thread.sleep(1000); // a loop would bring a second copy
            assertEquals(1, count(dumps), "exactly one copy: " + ItSupport.maillog(gw));
            String arrived;
            try (Stream<Path> s = Files.list(dumps)) {
                arrived = Files.readString(s.findFirst().orElseThrow(), StandardCharsets.ISO_8859_1);
            }
            assertTrue(arrived.contains("X-Scanned: by the test filter"), arrived);
            assertTrue(arrived.contains("Subject: to be scanned"), arrived);
            String log = ItSupport.maillog(gw);
            assertTrue(log.contains(id + ": to=<pepe@example.net>, relay=localhost[127.0.0.1]:10025"), log);
            assertTrue(Pattern.compile("to=<pepe@example\\.net>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:" + SINK_PORT
                    + ", .*status=sent").matcher(log).find(), "the filtered copy went on to its destination: " + log);
        } finally {
            if (gw != null) {
                gw.stop();
            }
            if (dns != null) {
                dns.close();
            }
            filter.destroy();
            sink.destroy();
            filter.waitFor(10, TimeUnit.SECONDS);
            sink.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static long count(Path dumps) {
        try (Stream<Path> s = Files.list(dumps)) {
            return s.count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
