package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.requirePeer;
import static org.estafeta.launcher.TutorialDelivery.awaitStatus;
import static org.estafeta.launcher.TutorialDelivery.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.stream.Stream;

import org.estafeta.launcher.TutorialDelivery.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tutorial's second-level post office {@code smtp.univ.es} (section 2.2 of
 * {@code spec/postfix-2.0-tutorial-es.md}) and both multi-domain styles of section 3 on it, delivering for real:
 * local mail with the {@code local} transport (root's mbox under {@code mail_spool_directory}, and
 * aliases to Maildirs), other univ.es hosts directly through the {@code .univ.es smtp:} entry, and everything else
 * to the smarthost {@code relayhost = [$relay]} (smtp-sink on 127.0.0.20:25).
 *
 * <p>main.cf and the transport tables are the tutorial's verbatim; added are only the tutorial's own alias
 * parameters of section 1.2 with the test's path, and {@code mail_spool_directory} (a path, so that no system
 * mailbox is touched). With {@code disable_dns_lookups = yes} the smtp client uses the system's host lookup, so
 * the gateway runs as its own process ({@code estafeta start}) with {@code JAVA_OPTS=-Djdk.net.hosts.file=…}: a
 * hosts file maps {@code relay.univ.es} and the internal hosts to the loopback sinks.
 */
class TutorialDeliverySecondLevelIT {
    static final int PORT = 27180;
    static final String INSIDE = "127.0.0.1";
    static final String OUTSIDE = "127.0.0.30";

    /** Section 2.2 verbatim; TRANSPORT, ALIASES and SPOOL are the test's paths. */
    static final String MAIN_CF_2_2 = String.join("\n",
            "# NOMBRE, DOMINIO y SMARHOST",
            "myhostname = smtp.univ.es",
            "mydomain = univ.es",
            "relay = relay.univ.es",
            "",
            "# DIRECCION QUE APARECE EN ENVIO DE CORREO",
            "myorigin = $mydomain",
            "",
            "# OTROS PARAMETROS DE CONFIGURACION",
            "transport_maps = hash:TRANSPORT",
            "disable_dns_lookups = yes",
            "relayhost = [$relay]",
            "",
            "# CONTROL DE CORREO ENTRANTE / SALIENTE",
            "mynetworks = 127.0.0.1 192.168.0.0/16",
            "mydestination = $myhostname localhost.$mydomain $mydomain",
            "smtpd_recipient_restrictions = permit_mynetworks reject_unauth_destination",
            "",
            "# TRATAMIENTO DE ALIAS (section 1.2, the test's path)",
            "alias_database = hash:ALIASES",
            "alias_maps = hash:ALIASES",
            "",
            "# the test's environment: system mailboxes under the test directory",
            "mail_spool_directory = SPOOL",
            "");

    static final String TRANSPORT_2_2 = String.join("\n",
            "# TRAFICO LOCAL ...",
            "univ.es          local:",
            "smtp.univ.es     local:",
            "localhost.univ.es local:",
            "",
            "# TRAFICO INTERNO ...",
            ".univ.es         smtp:",
            "");

    /** Section 3, sendmail-style virtual domains: smtp.univ.es's main.cf change. */
    static final String MAIN_CF_3_SENDMAIL = MAIN_CF_2_2.replace(
            "mydestination = $myhostname localhost.$mydomain $mydomain\n",
            "mydestination = $myhostname localhost.$mydomain $mydomain fund-univ.es\n");

    static final String TRANSPORT_3_SENDMAIL = String.join("\n",
            "# TRAFICO LOCAL ...",
            "univ.es          local:",
            "smtp.univ.es    local:",
            "localhost.univ.es local:",
            "fund-univ.es   local:",
            "",
            "# TRAFICO INTERNO ...",
            ".univ.es        smtp:",
            "");

    /** Section 3, Postfix-style virtual domains: the added directives (VIRTUAL: the table's path). */
    static final String MAIN_CF_3_POSTFIX = MAIN_CF_2_2 + String.join("\n",
            "# CONTROL DE CORREO ENTRANTE / SALIENTE",
            "virtual_alias_domains = fund-univ.es",
            "virtual_alias_maps = hash:VIRTUAL",
            "");

    static final String TRANSPORT_3_POSTFIX = String.join("\n",
            "# TRAFICO LOCAL ...",
            "univ.es          local:",
            "smtp.univ.es    local:",
            "localhost.univ.es local:",
            "",
            "# TRAFICO INTERNO ...",
            ".univ.es        smtp:",
            "");

    static final String VIRTUAL = String.join("\n",
            "# /etc/postfix/virtual",
            "gerente@fund-univ.es      rgarcia",
            "gestion@fund-univ.es     laurar",
            "tesorero@fund-univ.es    jheras@pastorro.com",
            "gramos@fund-univ.es      gramos",
            "");

    /** The loopback addresses of the tutorial's hosts, for the gateway's host lookups. */
    static final String HOSTS = String.join("\n",
            "127.0.0.20 relay.univ.es",
            "127.0.0.12 depart1.univ.es",
            "127.0.0.13 lab.depart2.univ.es",
            "");

    @TempDir
    static Path tmp;
    static Sink relay;
    static Sink depart1;
    static Sink depart2;
    static final List<Sink> sinks = new ArrayList<>();

    Path dir;
    Path boxes;
    Path spool;
    boolean started;

    @BeforeAll
    static void peers() throws Exception {
        requirePeer("/usr/bin/swaks", "swaks");
        try {
            relay = add(Sink.start(tmp.resolve("sinks"), "relay.univ.es", "127.0.0.20"));
            depart1 = add(Sink.start(tmp.resolve("sinks"), "smtp.depart1.univ.es", "127.0.0.12"));
            depart2 = add(Sink.start(tmp.resolve("sinks"), "smtp.depart2.univ.es", "127.0.0.13"));
        } catch (Exception | AssertionError e) {
            stopPeers();
            throw e;
        }
    }

    private static Sink add(Sink s) {
        sinks.add(s);
        return s;
    }

    @AfterAll
    static void stopPeers() {
        TutorialDelivery.closeAll(sinks);
        sinks.clear();
    }

    @BeforeEach
    void clearSinks() throws IOException {
        for (Sink s : sinks) {
            s.clear();
        }
    }

    @AfterEach
    void stopGateway() throws Exception {
        if (started) {
            ItSupport.Result r = ItSupport.estafeta(dir.resolve("conf"), dir.resolve("var"), "stop");
            assertEquals(0, r.exit(), "estafeta stop: " + r.output());
        }
    }

    /**
     * Writes the files (tables built with {@code estafeta postmap}/{@code postalias}) and runs {@code estafeta start}
     * with the hosts file.
     */
    private void start(String name, String mainCf, String transport, String virtual) throws Exception {
        dir = tmp.resolve(name);
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path var = Files.createDirectories(dir.resolve("var"));
        boxes = Files.createDirectories(dir.resolve("boxes"));
        spool = Files.createDirectories(dir.resolve("mail"));
        TutorialDelivery.openForOthers(boxes);
        Files.setPosixFilePermissions(boxes, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path hosts = Files.writeString(dir.resolve("hosts"), HOSTS);
        String main = mainCf.replace("TRANSPORT", conf.resolve("transport").toString())
                .replace("ALIASES", conf.resolve("aliases").toString())
                .replace("VIRTUAL", conf.resolve("virtual").toString())
                .replace("SPOOL", spool.toString());
        Files.writeString(conf.resolve("main.cf"), main);
        Files.writeString(conf.resolve("master.cf"),
                "127.0.0.1:" + PORT + " inet n - n - - smtpd\n" + TutorialDelivery.DELIVERY_SERVICES);
        Files.writeString(conf.resolve("transport"), transport);
        TutorialDelivery.postmap(conf, var, conf.resolve("transport"));
        // the aliases the local users of the examples have: Maildirs (a trailing slash) under boxes/
        Files.writeString(conf.resolve("aliases"), String.join("\n",
                "postmaster: root",
                "alumno: " + boxes.resolve("alumno") + "/",
                "rgarcia: " + boxes.resolve("rgarcia") + "/",
                "laurar: " + boxes.resolve("laurar") + "/",
                "gramos: " + boxes.resolve("gramos") + "/",
                ""));
        ItSupport.Result a = ItSupport.estafeta(conf, var, "postalias", conf.resolve("aliases").toString());
        assertEquals(0, a.exit(), "estafeta postalias: " + a.output());
        if (virtual != null) {
            Files.writeString(conf.resolve("virtual"), virtual);
            TutorialDelivery.postmap(conf, var, conf.resolve("virtual"));
        }
        ItSupport.Result r = ItSupport.exec(List.of(ItSupport.home().resolve("bin/estafeta").toString(), "-c",
                conf.toString(), "-f", "minimal", "start"), Map.of("ESTAFETA_VAR", var.toString(),
                        "JAVA_OPTS", "-Djdk.net.hosts.file=" + hosts), 120);
        started = true;
        assertEquals(0, r.exit(), "estafeta start: " + r.output() + "\n" + maillog());
        EstafetaTarget.awaitListener(PORT);
    }

    private Path maillogFile() {
        return dir.resolve("var/log/maillog");
    }

    private String maillog() {
        return TutorialDelivery.read(maillogFile());
    }

    /** The X-Seq values in the Maildir {@code boxes/NAME/new}, sorted. */
    private List<String> maildir(String name) {
        Path d = boxes.resolve(name).resolve("new");
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(d)) {
            for (Path f : s.toList()) {
                Matcher m = TutorialDelivery.SEQ.matcher(Files.readString(f, StandardCharsets.ISO_8859_1));
                out.add(m.find() ? m.group(1) : "(none)");
            }
        } catch (IOException e) {
            return List.of("(unreadable: " + e + ")");
        }
        out.sort(null);
        return out;
    }

    /** The X-Seq values in the mbox {@code mail_spool_directory/USER}, in order; checks the "From " separators. */
    private List<String> mbox(String user) {
        Path f = spool.resolve(user);
        if (!Files.exists(f)) {
            return List.of();
        }
        try {
            String text = Files.readString(f, StandardCharsets.ISO_8859_1);
            List<String> out = new ArrayList<>();
            for (String msg : text.split("(?m)(?=^From \\S+ )")) {
                if (msg.isBlank()) {
                    continue;
                }
                assertTrue(msg.startsWith("From "), "not an mbox: " + text);
                Matcher m = TutorialDelivery.SEQ.matcher(msg);
                out.add(m.find() ? m.group(1) : "(none)");
            }
            return out;
        } catch (IOException e) {
            return List.of("(unreadable: " + e + ")");
        }
    }

    private String state() {
        return "sinks: " + sinks + "\nmaildirs: alumno=" + maildir("alumno") + " rgarcia=" + maildir("rgarcia")
                + " laurar=" + maildir("laurar") + " gramos=" + maildir("gramos") + "\nmbox root=" + mbox("root")
                + "\nmaillog:\n" + maillog();
    }

    @Test
    void localMailIsDeliveredHereInternalMailGoesDirectAndTheRestToTheSmarthost() throws Exception {
        start("s22", MAIN_CF_2_2, TRANSPORT_2_2, null);
        String local = send(PORT, OUTSIDE, "sender@outside.example", "root@univ.es", "41");
        String alias = send(PORT, OUTSIDE, "sender@outside.example", "alumno@univ.es", "42");
        String direct = send(PORT, INSIDE, "alumno@univ.es", "luis@depart1.univ.es", "43");
        String sub = send(PORT, INSIDE, "alumno@univ.es", "rosa@lab.depart2.univ.es", "44");
        String out = send(PORT, INSIDE, "alumno@univ.es", "friend@foreign.test", "45");
        String pm = send(PORT, OUTSIDE, "sender@outside.example", "postmaster@smtp.univ.es", "46");
        assertEquals("554 5.7.1 <friend@foreign.test>: Relay access denied",
                TutorialDelivery.rcptReply(PORT, OUTSIDE, "friend@foreign.test"));

        assertTrue(ItSupport.waitFor(() -> mbox("root").size() == 2 && maildir("alumno").size() == 1
                && depart1.bySeq().size() == 1 && depart2.bySeq().size() == 1 && relay.bySeq().size() == 1, 60),
                state());
        assertEquals(List.of("41", "46"), mbox("root").stream().sorted().toList(), state());
        assertEquals(List.of("42"), maildir("alumno"), state());
        assertEquals(Map.of("43", List.of("luis@depart1.univ.es")), depart1.bySeq());
        assertEquals(Map.of("44", List.of("rosa@lab.depart2.univ.es")), depart2.bySeq());
        assertEquals(Map.of("45", List.of("friend@foreign.test")), relay.bySeq());

        Path log = maillogFile();
        assertTrue(awaitStatus(log, local, "root@univ.es", 10).contains("relay=local, "), maillog());
        assertTrue(awaitStatus(log, alias, "alumno@univ.es", 10).contains("relay=local, "), maillog());
        assertTrue(awaitStatus(log, direct, "luis@depart1.univ.es", 10)
                .contains("relay=depart1.univ.es[127.0.0.12]:25, "), maillog());
        assertTrue(awaitStatus(log, sub, "rosa@lab.depart2.univ.es", 10)
                .contains("relay=lab.depart2.univ.es[127.0.0.13]:25, "), maillog());
        assertTrue(awaitStatus(log, out, "friend@foreign.test", 10)
                .contains("relay=relay.univ.es[127.0.0.20]:25, "), maillog());
        assertTrue(awaitStatus(log, pm, "postmaster@smtp.univ.es", 10).contains("status=sent"), maillog());
        // the smarthost sees the post office's own Received: line
        String text = relay.arrivals().get(0).text();
        assertTrue(text.contains("by smtp.univ.es (Estafeta) with ESMTP id "), text);
    }

    /** Sendmail-style: fund-univ.es is one more local domain; its users are univ.es's users. */
    @Test
    void sendmailStyleVirtualDomainSharesTheLocalUsers() throws Exception {
        start("s3sendmail", MAIN_CF_3_SENDMAIL, TRANSPORT_3_SENDMAIL, null);
        String a = send(PORT, OUTSIDE, "sender@outside.example", "root@fund-univ.es", "51");
        String b = send(PORT, OUTSIDE, "sender@outside.example", "alumno@fund-univ.es", "52");
        send(PORT, OUTSIDE, "sender@outside.example", "alumno@univ.es", "53");
        assertTrue(ItSupport.waitFor(() -> mbox("root").size() == 1 && maildir("alumno").size() == 2, 60), state());
        assertEquals(List.of("51"), mbox("root"), state());
        assertEquals(List.of("52", "53"), maildir("alumno"), state());
        assertTrue(awaitStatus(maillogFile(), a, "root@fund-univ.es", 10).contains("relay=local, "), maillog());
        assertTrue(awaitStatus(maillogFile(), b, "alumno@fund-univ.es", 10).contains("relay=local, "), maillog());
        assertEquals(Map.of(), relay.bySeq(), "nothing to the smarthost");
    }

    /**
     * Postfix-style: fund-univ.es is a virtual alias domain with its own name space (the tutorial's virtual table
     * verbatim): its addresses are rewritten to local users or to an outside address; a local user's name is not
     * an address there.
     */
    @Test
    void postfixStyleVirtualAliasDomainRewritesToLocalUsersAndOutside() throws Exception {
        start("s3postfix", MAIN_CF_3_POSTFIX, TRANSPORT_3_POSTFIX, VIRTUAL);
        send(PORT, OUTSIDE, "sender@outside.example", "gerente@fund-univ.es", "61");
        send(PORT, OUTSIDE, "sender@outside.example", "gestion@fund-univ.es", "62");
        send(PORT, OUTSIDE, "sender@outside.example", "tesorero@fund-univ.es", "63");
        send(PORT, OUTSIDE, "sender@outside.example", "gramos@fund-univ.es", "64");
        assertTrue(ItSupport.waitFor(() -> maildir("rgarcia").size() == 1 && maildir("laurar").size() == 1
                && maildir("gramos").size() == 1 && relay.bySeq().size() == 1, 60), state());
        assertEquals(List.of("61"), maildir("rgarcia"), state());
        assertEquals(List.of("62"), maildir("laurar"), state());
        assertEquals(List.of("64"), maildir("gramos"), state());
        assertEquals(Map.of("63", List.of("jheras@pastorro.com")), relay.bySeq(), state());
    }

    /** Postfix-style: an address of the virtual alias domain that the table does not list is unknown at RCPT. */
    @Test
    void postfixStyleVirtualAliasDomainRejectsUnlistedAddressesAtRcpt() throws Exception {
        start("s3postfixrcpt", MAIN_CF_3_POSTFIX, TRANSPORT_3_POSTFIX, VIRTUAL);
        assertEquals("550 5.1.1 <root@fund-univ.es>: Recipient address rejected: User unknown in virtual alias table",
                TutorialDelivery.rcptReply(PORT, OUTSIDE, "root@fund-univ.es"));
    }
}
