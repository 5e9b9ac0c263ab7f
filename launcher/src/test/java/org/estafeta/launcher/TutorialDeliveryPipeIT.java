package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.estafeta.launcher.TutorialDelivery.awaitStatus;
import static org.estafeta.launcher.TutorialDelivery.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.estafeta.launcher.TutorialDelivery.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tutorial's filter of section 6.1 as a pipe(8) transport: master.cf's {@code filtro} entry verbatim (user
 * {@code seguro}, {@code flags=Rq}, {@code argv=/path/filtro -f ${sender} -- ${recipient}}), with the script's
 * shape: it saves the message, "analyses" it and exits with sysexits.h's {@code EX_TEMPFAIL} (75) or
 * {@code EX_UNAVAILABLE} (69) as the tutorial's script does. Mail reaches it through a transport table entry
 * {@code filtered.test filtro:}. The script records its argv, its user and its standard input; 75 leaves the mail
 * deferred with the reason in {@code postqueue -p}, 69 bounces it back to the sender's post office (smtp-sink on
 * 127.0.0.17:25) as an RFC 3464 report.
 */
class TutorialDeliveryPipeIT {
    static final int PORT = 27190;

    @TempDir
    Path tmp;

    /** The tutorial's script, with the virus scanner replaced by a look at a test header. */
    static String script(Path inspectDir) {
        return String.join("\n",
                "#!/bin/sh",
                "",
                "# Definiciones",
                "INSPECT_DIR=" + inspectDir,
                "",
                "# Codigos de retorno <sysexit.h>",
                "EX_TEMPFAIL=75",
                "EX_UNAVAILABLE=69",
                "",
                "# Comienzo del proceso",
                "cd $INSPECT_DIR || { echo \"$INSPECT_DIR no existe\"; exit $EX_TEMPFAIL; }",
                "",
                "# Guarda el mensaje en un fichero (and what the test checks: argv, user)",
                "n=$$",
                "cat >in.$n || { echo \"No se puede salvar el mensaje en un fichero\"; exit $EX_TEMPFAIL; }",
                "printf '%s\\n' \"$@\" >argv.$n",
                "id -un >user.$n",
                "",
                "# Analiza el mensaje",
                "if grep -q '^X-Analisis: ocupado' in.$n; then echo \"Analizador ocupado\"; exit $EX_TEMPFAIL; fi",
                "if grep -q '^X-Analisis: virus' in.$n; then echo \"Mensaje rechazado por contener virus\"; exit $EX_UNAVAILABLE; fi",
                "",
                "# Si todo bien",
                "exit 0",
                "");
    }

    @Test
    void theFilterGetsTheTutorialsArgvAndItsExitCodesDeferAndBounce() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        requirePeer("/usr/bin/setpriv", "util-linux");
        assumeTrue(ItSupport.exec(List.of("getent", "passwd", "seguro"), java.util.Map.of(), 10).exit() == 0,
                "the tutorial's user seguro does not exist (useradd -r seguro)");
        TutorialDelivery.openForOthers(tmp);
        Path inspect = Files.createDirectories(tmp.resolve("inspect"));
        Files.setPosixFilePermissions(inspect, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path filtro = tmp.resolve("filtro");
        Files.writeString(filtro, script(inspect));
        Files.setPosixFilePermissions(filtro, PosixFilePermissions.fromString("rwxr-xr-x"));

        Sink senders = Sink.start(tmp.resolve("sinks"), "smtp.univ.es", "127.0.0.17");
        Gateway gw = null;
        try {
            Path conf = Files.createDirectories(tmp.resolve("conf"));
            Path var = Files.createDirectories(tmp.resolve("var"));
            Path transport = conf.resolve("transport");
            Files.writeString(transport, String.join("\n",
                    "# the filter's domain",
                    "filtered.test    filtro:",
                    "# the senders' post office (smtp.univ.es, its address)",
                    "univ.es          smtp:[127.0.0.17]",
                    ""));
            String main = String.join("\n",
                    "myhostname = relay.univ.es",
                    "mydomain = univ.es",
                    "transport_maps = hash:" + transport,
                    "mynetworks = 127.0.0.1 192.168.0.0/16",
                    "mydestination = $myhostname localhost.$mydomain",
                    "relay_domains = $mydomain filtered.test",
                    "smtpd_recipient_restrictions = permit_mynetworks reject_unauth_destination",
                    "");
            Files.writeString(conf.resolve("main.cf"), main);
            TutorialDelivery.postmap(conf, var, transport);
            gw = EstafetaTarget.start(tmp, main, String.join("\n",
                    "127.0.0.1:" + PORT + " inet n - n - - smtpd",
                    TutorialDelivery.DELIVERY_SERVICES,
                    "# the tutorial's section 6.1",
                    "filtro       unix -      n       n       -       -       pipe",
                    "             flags=Rq user=seguro argv=" + filtro + " -f ${sender} -- ${recipient}",
                    ""));
            EstafetaTarget.awaitListener(PORT);

            String ok = send(PORT, "127.0.0.1", "remitente@univ.es", "limpio@filtered.test,otro@filtered.test", "71",
                    "X-Analisis: limpio");
            String busy = send(PORT, "127.0.0.1", "remitente@univ.es", "ocupado@filtered.test", "72",
                    "X-Analisis: ocupado");
            String virus = send(PORT, "127.0.0.1", "remitente@univ.es", "infectado@filtered.test", "73",
                    "X-Analisis: virus");

            Path log = gw.maillogFile();
            String okLine = awaitStatus(log, ok, "limpio@filtered.test", 60);
            assertTrue(okLine.contains("relay=filtro, ") && okLine.contains("status=sent (delivered via filtro service)"),
                    ItSupport.maillog(gw));
            assertTrue(awaitStatus(log, ok, "otro@filtered.test", 10).contains("status=sent"), ItSupport.maillog(gw));
            String busyLine = awaitStatus(log, busy, "ocupado@filtered.test", 60);
            assertTrue(busyLine.contains("relay=filtro, ") && busyLine.contains("dsn=4.3.0, status=deferred "
                    + "(temporary failure. Command output: Analizador ocupado )"), busyLine);
            String virusLine = awaitStatus(log, virus, "infectado@filtered.test", 60);
            assertTrue(virusLine.contains("dsn=5.3.0, status=bounced (service unavailable. Command output: "
                    + "Mensaje rechazado por contener virus )"), virusLine);

            // what the script saw: one run per message (both recipients of 71 in one argv), as user seguro
            List<Path> ins;
            try (var s = Files.list(inspect)) {
                ins = s.filter(p -> p.getFileName().toString().startsWith("in.")).sorted().toList();
            }
            assertEquals(3, ins.size(), ins.toString());
            boolean sawBoth = false;
            for (Path in : ins) {
                String n = in.getFileName().toString().substring(3);
                String msg = Files.readString(in, StandardCharsets.ISO_8859_1);
                List<String> argv = Files.readAllLines(inspect.resolve("argv." + n));
                assertEquals("seguro", Files.readString(inspect.resolve("user." + n)).strip());
                assertTrue(msg.startsWith("Return-Path: <remitente@univ.es>\n"), "flags=R: " + msg);
                assertTrue(!msg.contains("\r\n"), "pipe gets LF line ends: " + msg);
                assertEquals(List.of("-f", "remitente@univ.es", "--"), argv.subList(0, 3), argv.toString());
                if (msg.contains("X-Seq: 71")) {
                    assertEquals(List.of("limpio@filtered.test", "otro@filtered.test"),
                            argv.subList(3, argv.size()).stream().sorted().toList());
                    sawBoth = true;
                } else if (msg.contains("X-Seq: 72")) {
                    assertEquals(List.of("ocupado@filtered.test"), argv.subList(3, argv.size()));
                } else {
                    assertTrue(msg.contains("X-Seq: 73"), msg);
                    assertEquals(List.of("infectado@filtered.test"), argv.subList(3, argv.size()));
                }
            }
            assertTrue(sawBoth, "no run for message 71");

            // 75: still in the queue, with the reason
            assertTrue(Files.exists(gw.queueDirectory().resolve("deferred").resolve(busy)), ItSupport.maillog(gw));
            ItSupport.Result q = ItSupport.estafeta(conf, var, "postqueue", "-p");
            assertTrue(q.stdout().contains(busy), q.output());
            assertTrue(q.stdout().contains("(temporary failure. Command output: Analizador ocupado )"), q.output());
            assertTrue(q.stdout().contains("ocupado@filtered.test"), q.output());
            assertTrue(!q.stdout().contains(virus) && !q.stdout().contains(ok), q.output());

            // 69: the report comes back to the sender's post office
            assertTrue(ItSupport.waitFor(() -> senders.arrivals().size() == 1, 60),
                    "no bounce at smtp.univ.es: " + senders + "\n" + ItSupport.maillog(gw));
            TutorialDelivery.Arrival bounce = senders.arrivals().get(0);
            assertEquals(List.of("remitente@univ.es"), bounce.recipients());
            String report = bounce.text().replaceAll("\r?\n[ \t]+", " "); // unfolded
            assertTrue(report.contains("X-Mail-Args: <> ") || report.contains("X-Mail-Args: <>\n"), "null sender: " + report);
            assertTrue(report.contains("Final-Recipient: rfc822; infectado@filtered.test"), report);
            assertTrue(report.contains("Status: 5.3.0"), report);
            assertTrue(report.contains("Mensaje rechazado por contener virus"), report);
            assertTrue(report.contains("X-Seq: 73"), "the original comes back: " + report);
            assertTrue(ItSupport.maillog(gw).contains(virus + ": sender non-delivery notification: "), ItSupport.maillog(gw));
        } finally {
            if (gw != null) {
                gw.stop();
            }
            senders.close();
        }
    }
}
