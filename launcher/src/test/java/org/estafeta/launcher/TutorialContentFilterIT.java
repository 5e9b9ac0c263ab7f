package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.launcher.TutorialDelivery.Arrival;
import org.estafeta.launcher.TutorialDelivery.Sink;
import org.estafeta.testing.Peers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tutorial sections 6.1 and 6.2 end to end, with real processes and the tutorial's main.cf and master.cf lines (the
 * public {@code smtp} listener and the reinjection port 10025 moved to test ports on 127.0.0.1/localhost):
 * <ul>
 * <li>6.1, "solución simple": the tutorial's shell script as the {@code filtro} pipe(8) command ({@code flags=Rq
 * user=seguro argv=/path/filtro -f ${sender} -- ${recipient}}), its virus scanner replaced by a look at a test
 * header, which gives the message back with {@code $SENDMAIL "$@" <in.$$}, the gateway's own
 * {@code estafeta sendmail -i}, i.e. through pickup: first with {@code -o content_filter=filtro:} on the smtp
 * listener only, then with {@code content_filter = filtro:} in main.cf and {@code -o content_filter=} on pickup;</li>
 * <li>6.2, "solución básica": {@code content_filter = filtro:} in main.cf for smtpd and pickup alike, an "amavis"
 * (a Python program) as the pipe command ({@code flags=q argv=/path/amavis ${sender} ${recipient}}) that gives the
 * message back by SMTP to the {@code localhost:10025 ... -o content_filter=} listener.</li>
 * </ul>
 * Every filter run appends the message's {@code X-Seq} to a file, so the tests count runs per message; mail goes on
 * through {@code relayhost} to Postfix's smtp-sink on 127.0.0.21:25 (bounces too), which keeps each message in a
 * file. The pipe commands run as the tutorial's user {@code seguro}: nothing in the project creates it (scripts or
 * tests), so the tests need it to exist ({@code useradd -r seguro}), as {@link TutorialDeliveryPipeIT} does; 6.2's
 * {@code user=vscan} becomes {@code user=seguro} for the same reason.
 */
class TutorialContentFilterIT {
    static final int SMTP_PORT = 27851;
    /** Section 6.1's second variant: a second smtpd port (the tutorial's 8025), filtered as well. */
    static final int SECOND_SMTP_PORT = 27852;
    /** Section 6.2's reinjection listener (the tutorial's localhost:10025). */
    static final int REINJECT_PORT = 27853;
    /** The destination of every message (relayhost), bounces included. */
    static final String SINK_ADDRESS = "127.0.0.21";
    static final String SENDER = "remitente@example.org";
    static final Pattern SEQ_LINE = Pattern.compile("(?m)^(\\S+) ");

    @TempDir
    Path tmp;

    Path inspect;
    Path conf;
    Path var;
    Sink sink;
    Gateway gw;

    @BeforeEach
    void peers() throws Exception {
        Peers.require(Peers.SWAKS, "swaks");
        Peers.require(TutorialDelivery.SMTP_SINK, "postfix");
        if (ItSupport.exec(List.of("getent", "passwd", "seguro"), Map.of(), 10).exit() != 0) {
            Peers.missing("the tutorial's user seguro does not exist (useradd -r seguro)");
        }
        TutorialDelivery.openForOthers(tmp);
        inspect = Files.createDirectories(tmp.resolve("inspect"));
        Files.setPosixFilePermissions(inspect, PosixFilePermissions.fromString("rwxrwxrwx"));
        conf = tmp.resolve("conf");
        var = tmp.resolve("var");
        sink = Sink.start(tmp.resolve("sinks"), "destino", SINK_ADDRESS);
    }

    @AfterEach
    void stop() {
        if (gw != null) {
            gw.stop();
        }
        if (sink != null) {
            sink.close();
        }
    }

    /** Section 6.1 as written: only the smtp listener filters; the script gives the mail back through pickup. */
    @Test
    void simpleFilterOnTheSmtpPortReinjectsThroughPickupOnce() throws Exception {
        Path filtro = writeScript(tmp.resolve("filtro"), shellFilter());
        start("", String.join("\n",
                "# service type  private unpriv  chroot  wakeup  maxproc  command + args",
                "127.0.0.1:" + SMTP_PORT + " inet n      -       n       -       -       smtpd -o content_filter=filtro:",
                "pickup       fifo n      -       n       60      1       pickup",
                TutorialDelivery.DELIVERY_SERVICES,
                "filtro       unix -      n       n       -       -       pipe",
                "             flags=Rq user=seguro argv=" + filtro + " -f ${sender} -- ${recipient}",
                ""));

        String ok = TutorialDelivery.send(SMTP_PORT, "127.0.0.1", SENDER, "limpio@example.net", "61",
                "X-Analisis: limpio");
        String busy = TutorialDelivery.send(SMTP_PORT, "127.0.0.1", SENDER, "ocupado@example.net", "62",
                "X-Analisis: ocupado");
        String virus = TutorialDelivery.send(SMTP_PORT, "127.0.0.1", SENDER, "infectado@example.net", "63",
                "X-Analisis: virus");

        // the clean one: through filtro, back through pickup as seguro, then to its destination, once
        Arrival arrived = awaitOne("61");
        assertEquals(List.of("limpio@example.net"), arrived.recipients());
        // flags=R gave the script a Return-Path: header; cleanup drops it on reinjection (message_drop_headers)
        assertTrue(!arrived.text().contains("\nReturn-Path:") && !arrived.text().startsWith("Return-Path:"),
                arrived.text());
        String okLine = TutorialDelivery.awaitStatus(gw.maillogFile(), ok, "limpio@example.net", 10);
        assertTrue(okLine.contains(", relay=filtro, ") && okLine.contains("status=sent (delivered via filtro service)"),
                okLine);
        String again = reinjectedByPickup(uid("seguro"));
        String againLine = TutorialDelivery.awaitStatus(gw.maillogFile(), again, "limpio@example.net", 10);
        assertTrue(againLine.contains(", relay=" + SINK_ADDRESS + "[" + SINK_ADDRESS + "]:25, ")
                && againLine.contains("status=sent"), "the reinjected copy went to its destination: " + againLine);
        assertEquals(1, count(ItSupport.maillog(gw), "to=<limpio@example.net>, relay=filtro, "),
                "filtro once, no loop: " + ItSupport.maillog(gw));

        // the "virus": bounced to its sender with the script's words
        String virusLine = TutorialDelivery.awaitStatus(gw.maillogFile(), virus, "infectado@example.net", 60);
        assertTrue(virusLine.contains(", relay=filtro, ") && virusLine.contains("dsn=5.3.0, status=bounced (service "
                + "unavailable. Command output: Mensaje rechazado por contener virus )"), virusLine);
        Arrival bounce = awaitOne("63");
        assertEquals(List.of(SENDER), bounce.recipients(), "the report goes to the sender");
        String report = bounce.text().replaceAll("\r?\n[ \t]+", " ");
        assertTrue(report.contains("Final-Recipient: rfc822; infectado@example.net"), report);
        assertTrue(report.contains("Status: 5.3.0"), report);
        assertTrue(report.contains("Mensaje rechazado por contener virus"), report);

        // the "busy" one: deferred, in the queue with the script's words
        String busyLine = TutorialDelivery.awaitStatus(gw.maillogFile(), busy, "ocupado@example.net", 60);
        assertTrue(busyLine.contains(", relay=filtro, ") && busyLine.contains("dsn=4.3.0, status=deferred "
                + "(temporary failure. Command output: Analizador ocupado )"), busyLine);
        ItSupport.Result q = ItSupport.estafeta(conf, var, "postqueue", "-p");
        assertTrue(q.stdout().contains(busy) && q.stdout().contains("ocupado@example.net"), q.output());
        assertTrue(q.stdout().contains("Analizador ocupado"), q.output());
        assertTrue(!q.stdout().contains(ok) && !q.stdout().contains(again) && !q.stdout().contains(virus), q.output());

        settle();
        assertEquals(Map.of("61", 1, "62", 1, "63", 1), runs(), "one run of the script per message");
        assertEquals(List.of("61", "63"), sink.arrivals().stream().map(Arrival::seq).sorted().toList(),
                "one delivery of the clean message and one bounce: " + sink);
        List<String> args = Files.readAllLines(inspect.resolve("runs.log"));
        assertTrue(args.contains("61 seguro -f " + SENDER + " -- limpio@example.net"), args.toString());
    }

    /**
     * Section 6.1's second variant: the filter in main.cf for every smtpd port, taken away from pickup with
     * {@code -o content_filter=}; mail by SMTP on either port is filtered once, local mail not at all.
     */
    @Test
    void filterInMainCfWithPickupExemptFiltersSmtpOnceAndLocalMailNot() throws Exception {
        Path filtro = writeScript(tmp.resolve("filtro"), shellFilter());
        start("# CONTROL DE CORREO ENTRANTE / SALIENTE\ncontent_filter = filtro:\n", String.join("\n",
                "# service type  private unpriv  chroot  wakeup  maxproc  command + args",
                "# (the tutorial's 8025 has -o smtpd_sasl_auth_enable=yes, which needs a SASL server: left out)",
                "127.0.0.1:" + SECOND_SMTP_PORT + "    inet n      -       n       -       -       smtpd",
                "127.0.0.1:" + SMTP_PORT + "    inet n      -       n       -       -       smtpd",
                "pickup  fifo n      -       n       60      1       pickup",
                "        -o content_filter=",
                TutorialDelivery.DELIVERY_SERVICES,
                "filtro  unix -      n       n       -       -       pipe",
                "        flags=Rq user=seguro argv=" + filtro + " -f ${sender} -- ${recipient}",
                ""));
        EstafetaTarget.awaitListener(SECOND_SMTP_PORT);

        String first = TutorialDelivery.send(SMTP_PORT, "127.0.0.1", SENDER, "smtp1@example.net", "71");
        String second = TutorialDelivery.send(SECOND_SMTP_PORT, "127.0.0.1", SENDER, "smtp2@example.net", "72");
        submitLocally("73", "local3@example.net");

        assertEquals(List.of("smtp1@example.net"), awaitOne("71").recipients());
        assertEquals(List.of("smtp2@example.net"), awaitOne("72").recipients());
        assertEquals(List.of("local3@example.net"), awaitOne("73").recipients());
        settle();
        String log = ItSupport.maillog(gw);
        for (String[] m : List.of(new String[] {first, "smtp1@example.net"}, new String[] {second, "smtp2@example.net"})) {
            String line = TutorialDelivery.awaitStatus(gw.maillogFile(), m[0], m[1], 10);
            assertTrue(line.contains(", relay=filtro, ") && line.contains("status=sent"), line);
            assertEquals(1, count(log, "to=<" + m[1] + ">, relay=filtro, "), "filtro once for " + m[1] + ": " + log);
            assertEquals(1, count(log, "to=<" + m[1] + ">, relay=" + SINK_ADDRESS + "["),
                    "delivered once " + m[1] + ": " + log);
        }
        assertEquals(0, count(log, "to=<local3@example.net>, relay=filtro, "), "local mail is not filtered: " + log);
        assertEquals(1, count(log, "to=<local3@example.net>, relay=" + SINK_ADDRESS + "["), log);
        assertEquals(Map.of("71", 1, "72", 1), runs(), "the script ran once per SMTP message, never for local mail");
        assertEquals(List.of("71", "72", "73"), sink.arrivals().stream().map(Arrival::seq).sorted().toList(),
                "each message delivered once: " + sink);
    }

    /**
     * Section 6.2: the filter in main.cf for smtpd and pickup alike, an amavis that gives the message back by SMTP
     * on localhost:10025 ({@code -o content_filter=}); SMTP and local mail are filtered once each, mail that enters
     * on the reinjection port is not filtered.
     */
    @Test
    void basicFilterReinjectsBySmtpAndFiltersSmtpAndLocalMailOnce() throws Exception {
        Peers.require(Peers.PYTHON3, "python3");
        Path amavis = writeScript(tmp.resolve("amavis"), amavis());
        start("# CONTROL DE CORREO ENTRANTE / SALIENTE\ncontent_filter = filtro:\n", String.join("\n",
                "# service type private unpriv chroot wakeup maxproc command + args",
                "localhost:" + REINJECT_PORT + " inet    n      -      n      -      -      smtpd",
                "                  -o content_filter=",
                "127.0.0.1:" + SMTP_PORT + "    inet    n      -      n      -      -      smtpd",
                "pickup           fifo   n      -      n      60     1      pickup",
                TutorialDelivery.DELIVERY_SERVICES,
                "# user=vscan in the tutorial: see the class comment",
                "filtro           unix   -      n      n      -      10     pipe",
                "                  flags=q user=seguro argv=" + amavis + " ${sender} ${recipient}",
                ""));
        EstafetaTarget.awaitListener(REINJECT_PORT);

        String bySmtp = TutorialDelivery.send(SMTP_PORT, "127.0.0.1", SENDER, "smtp@example.net", "91");
        submitLocally("92", "local@example.net");
        String direct = TutorialDelivery.send(REINJECT_PORT, "127.0.0.1", SENDER, "directo@example.net", "93");

        for (String seq : List.of("91", "92")) {
            Arrival a = awaitOne(seq);
            assertEquals(1, count(a.text(), "X-Amavis-Prueba: analizado"), "filtered once: " + a.text());
        }
        Arrival d = awaitOne("93");
        assertEquals(0, count(d.text(), "X-Amavis-Prueba"), "not filtered: " + d.text());
        String line = TutorialDelivery.awaitStatus(gw.maillogFile(), bySmtp, "smtp@example.net", 10);
        assertTrue(line.contains(", relay=filtro, ") && line.contains("status=sent (delivered via filtro service)"),
                line);
        String directLine = TutorialDelivery.awaitStatus(gw.maillogFile(), direct, "directo@example.net", 10);
        assertTrue(directLine.contains(", relay=" + SINK_ADDRESS + "["), directLine);
        settle();
        String log = ItSupport.maillog(gw);
        for (String rcpt : List.of("smtp@example.net", "local@example.net")) {
            assertEquals(1, count(log, "to=<" + rcpt + ">, relay=filtro, "), "filtro once for " + rcpt + ": " + log);
            assertEquals(1, count(log, "to=<" + rcpt + ">, relay=" + SINK_ADDRESS + "["), "delivered once: " + log);
        }
        assertEquals(0, count(log, "to=<directo@example.net>, relay=filtro, "), log);
        assertEquals(Map.of("91", 1, "92", 1), runs(), "amavis ran once per message, not for its own reinjections");
        assertEquals(List.of("seguro " + SENDER + " smtp@example.net"),
                Files.readAllLines(inspect.resolve("runs.log")).stream().filter(l -> l.startsWith("91 "))
                        .map(l -> l.substring(3)).toList(), "argv ${sender} ${recipient}, as seguro");
        assertEquals(List.of("91", "92", "93"), sink.arrivals().stream().map(Arrival::seq).sorted().toList(),
                "each message delivered once: " + sink);
    }

    /**
     * The tutorial's script of section 6.1: {@code SENDMAIL} is the gateway's own sendmail command; the virus
     * scanner is a look at an {@code X-Analisis} header ({@code virus}: 69, {@code ocupado}: 75); each run appends
     * "X-Seq user argv" to runs.log.
     */
    /**
     * The tutorial's warning (6.1): without {@code -o content_filter=} on pickup, "se produciría un bucle infinito:
     * pickup -> filtro -> pickup -> ...". Estafeta, as Postfix, stops it with {@code hopcount_limit}: each pass adds
     * a Received header, and the pass that reaches the limit is refused by cleanup (pickup logs and removes it);
     * nothing is delivered and the filter ran once per pass, no more.
     */
    @Test
    void theLoopTheTutorialWarnsAboutIsStoppedByHopcountLimit() throws Exception {
        Path filtro = writeScript(tmp.resolve("filtro"), shellFilter());
        start("content_filter = filtro:\nhopcount_limit = 5\n", String.join("\n",
                "127.0.0.1:" + SMTP_PORT + "    inet n      -       n       -       -       smtpd",
                "pickup  fifo n      -       n       60      1       pickup",
                TutorialDelivery.DELIVERY_SERVICES,
                "filtro  unix -      n       n       -       -       pipe",
                "        flags=Rq user=seguro argv=" + filtro + " -f ${sender} -- ${recipient}",
                ""));
        TutorialDelivery.send(SMTP_PORT, "127.0.0.1", SENDER, "loop@example.net", "81");
        ItSupport.waitFor(() -> ItSupport.maillog(gw).contains("message rejected: hopcount exceeded"), 60);
        settle();
        String log = ItSupport.maillog(gw);
        // smtpd's pass has 1 Received (its own); each reinjection through pickup adds one: passes 2, 3, 4 are
        // queued and filtered again, the 5th is refused
        assertEquals(1, count(log, "message rejected: hopcount exceeded"), log);
        assertTrue(log.contains("rejected by cleanup: 554 5.4.0 Error: too many hops"), log);
        assertEquals(Map.of("81", 4), runs(), "the filter ran once per queued pass: " + log);
        assertEquals(4, count(log, "to=<loop@example.net>, relay=filtro, "), log);
        assertEquals(0, count(log, "to=<loop@example.net>, relay=" + SINK_ADDRESS + "["), "nothing delivered: " + log);
        // the refused pass is returned to its sender, as Postfix's cleanup bounces pickup's mail: the report goes to
        // SENDER through relayhost (the sink), and is the only thing that arrives there
        assertEquals(1, count(log, "to=<loop@example.net>, relay=none, dsn=5.4.0, status=bounced (554 5.4.0 Error: "
                + "too many hops)"), log);
        Arrival bounce = awaitOne("81");
        assertEquals(List.of(SENDER), bounce.recipients(), "the report goes to the sender");
        String report = bounce.text().replaceAll("\r?\n[ \t]+", " ");
        assertTrue(report.contains("Final-Recipient: rfc822; loop@example.net"), report);
        assertTrue(report.contains("Status: 5.4.0"), report);
        assertTrue(report.contains("554 5.4.0 Error: too many hops"), report);
        assertTrue(ItSupport.maillog(gw).contains("sender non-delivery notification: "), ItSupport.maillog(gw));
        assertEquals(1, sink.arrivals().size(), "only the report arrived: " + sink);
    }

    private String shellFilter() throws Exception {
        return String.join("\n",
                "#!/bin/sh",
                "",
                "# Definiciones",
                "INSPECT_DIR=" + inspect,
                "ESTAFETA_VAR=" + var + "; export ESTAFETA_VAR",
                "SENDMAIL=\"" + LocalSubmission.homeForEveryone().resolve("bin/estafeta") + " -c " + conf
                        + " sendmail -i\"",
                "",
                "# Codigos de retorno <sysexit.h>",
                "EX_TEMPFAIL=75",
                "EX_UNAVAILABLE=69",
                "",
                "# Comienzo del proceso",
                "cd $INSPECT_DIR || { echo \"$INSPECT_DIR no existe\"; exit $EX_TEMPFAIL; }",
                "",
                "# Borra los ficheros cuando termine el proceso",
                "trap \"rm -fr in.$$ tmp\" 0 1 2 3 15",
                "",
                "# Guarda el mensaje en un fichero",
                "cat >in.$$ || { echo \"No se puede salvar el mensaje en un fichero\"; exit $EX_TEMPFAIL; }",
                "",
                "# (the test counts the runs)",
                "echo \"$(sed -n 's/^X-Seq: //p' in.$$ | head -n 1) $(id -un) $*\" >>runs.log",
                "",
                "# Analiza la presencia de virus",
                "if grep -q '^X-Analisis: ocupado' in.$$; then echo \"Analizador ocupado\"; exit $EX_TEMPFAIL; fi",
                "if grep -q '^X-Analisis: virus' in.$$; then echo \"Mensaje rechazado por contener virus\"; "
                        + "exit $EX_UNAVAILABLE; fi",
                "",
                "# Si todo bien, se encamina el mensaje",
                "$SENDMAIL \"$@\" <in.$$",
                "",
                "exit $?",
                "");
    }

    /**
     * Section 6.2's "amavis": reads the message, appends "X-Seq user sender recipients" to runs.log, adds a header
     * and sends the message by SMTP to the reinjection listener, MAIL FROM its first argument, RCPT TO the others;
     * exits 0 when that was accepted, 75 on a 4xx (or no connection), 69 on a 5xx.
     */
    private String amavis() {
        return String.join("\n",
                "#!/usr/bin/python3",
                "import os, pwd, re, smtplib, sys",
                "sender, rcpts = sys.argv[1], sys.argv[2:]",
                "data = sys.stdin.buffer.read()",
                "m = re.search(rb'(?m)^X-Seq: (\\S+)', data)",
                "with open(" + pyString(inspect.resolve("runs.log").toString()) + ", 'a') as f:",
                "    f.write('%s %s %s %s\\n' % (m.group(1).decode() if m else '(none)',",
                "            pwd.getpwuid(os.getuid()).pw_name, sender, ' '.join(rcpts)))",
                "data = b'X-Amavis-Prueba: analizado\\r\\n' + re.sub(rb'\\r?\\n', b'\\r\\n', data)",
                "try:",
                "    with smtplib.SMTP('localhost', " + REINJECT_PORT + ") as s:",
                "        s.sendmail(sender, rcpts, data)",
                "except smtplib.SMTPRecipientsRefused as e:",
                "    codes = [c for c, _ in e.recipients.values()]",
                "    print('reinjection refused: %s' % e.recipients)",
                "    sys.exit(75 if any(400 <= c < 500 for c in codes) else 69)",
                "except smtplib.SMTPResponseException as e:",
                "    print('reinjection refused: %d %s' % (e.smtp_code, e.smtp_error))",
                "    sys.exit(75 if 400 <= e.smtp_code < 500 else 69)",
                "except (OSError, smtplib.SMTPException) as e:",
                "    print('reinjection failed: %s' % e)",
                "    sys.exit(75)",
                "sys.exit(0)",
                "");
    }

    private static String pyString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static Path writeScript(Path path, String text) throws Exception {
        Files.writeString(path, text);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
        return path;
    }

    /** Starts the gateway with the test's main.cf lines after the common ones, and waits for its smtp port. */
    private void start(String mainCf, String masterCf) throws Exception {
        gw = EstafetaTarget.start(tmp, String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = estafeta.univ.es",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "relayhost = [" + SINK_ADDRESS + "]",
                mainCf), masterCf);
        EstafetaTarget.awaitListener(SMTP_PORT);
    }

    /** {@code estafeta sendmail -f SENDER RCPT} from the test (root), numbered {@code seq}. */
    private void submitLocally(String seq, String rcpt) throws Exception {
        ItSupport.Result r = LocalSubmission.sendmail(conf, var, String.join("\n",
                "From: " + SENDER,
                "To: " + rcpt,
                "Subject: tutorial message " + seq,
                "X-Seq: " + seq,
                "",
                "message " + seq + " of the tutorial's setups",
                ""), "-f", SENDER, "--", rcpt);
        assertEquals(0, r.exit(), r.output());
    }

    /**
     * Waits (60 s) until exactly one complete message numbered {@code seq} arrived at the sink (smtp-sink's file may
     * exist before the end of the message is in it: the body's text marks a complete one, a bounce quotes it) and
     * returns it; fails when none or several arrive.
     */
    private Arrival awaitOne(String seq) throws Exception {
        String end = "message " + seq + " of the tutorial's setups";
        ItSupport.waitFor(() -> sink.arrivals().stream().anyMatch(a -> a.seq().equals(seq) && a.text().contains(end)),
                60);
        List<Arrival> got = sink.arrivals().stream().filter(a -> a.seq().equals(seq)).toList();
        assertEquals(1, got.size(), "message " + seq + " arrived once: " + sink + "\n" + ItSupport.maillog(gw));
        assertTrue(got.get(0).text().contains(end), got.get(0).text());
        return got.get(0);
    }

    /** The queue ID pickup gave the one message {@code uid} sent through sendmail (fails on none or several). */
    private String reinjectedByPickup(int uid) {
        Matcher m = Pattern.compile("pickup\\[\\d+\\]: (\\S+): uid=" + uid + " from=<" + Pattern.quote(SENDER) + ">")
                .matcher(ItSupport.maillog(gw));
        List<String> ids = new ArrayList<>();
        while (m.find()) {
            ids.add(m.group(1));
        }
        assertEquals(1, ids.size(), "one reinjection by pickup: " + ItSupport.maillog(gw));
        return ids.get(0);
    }

    private static int uid(String user) throws Exception {
        ItSupport.Result r = ItSupport.exec(List.of("id", "-u", user), Map.of(), 10);
        assertEquals(0, r.exit(), r.output());
        return Integer.parseInt(r.stdout().strip());
    }

    /** Runs of the filter so far, by X-Seq. */
    private Map<String, Integer> runs() throws Exception {
        Path log = inspect.resolve("runs.log");
        Map<String, Integer> runs = new java.util.TreeMap<>();
        if (Files.exists(log)) {
            Matcher m = SEQ_LINE.matcher(Files.readString(log));
            while (m.find()) {
                runs.merge(m.group(1), 1, Integer::sum);
            }
        }
        return runs;
    }

    /** Gives a loop time to show itself: a second pass through a filter, or a second copy. */
    private static void settle() throws InterruptedException {
        Thread.sleep(3000);
    }

    private static int count(String text, String needle) {
        return text.split(Pattern.quote(needle), -1).length - 1;
    }
}
