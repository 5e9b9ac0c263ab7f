package org.estafeta.transport.pipe.internal;

import org.estafeta.testing.BytesContent;

import static org.estafeta.transport.pipe.internal.Scripts.read;
import static org.estafeta.transport.pipe.internal.Scripts.request;
import static org.estafeta.transport.pipe.internal.Scripts.script;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.process.support.UnixAccount;
import org.estafeta.process.support.UnknownAccountException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tutorial's section 6.1 ("Solución simple"): master.cf's {@code filtro} entry, its arguments verbatim except for
 * the script's path (and the user, when the tests do not run as root), against a script of the tutorial's shape. The
 * antivirus is a grep for the EICAR signature, and the re-injection through sendmail, another issue, is a stand-in
 * that writes down what it got.
 */
class Tutorial61Test {
    /** From the tutorial's master.cf, as printed. */
    static final String MASTER_CF_ARGS = "flags=Rq user=seguro argv=/etc/postfix/filtro -f ${sender} -- ${recipient}";

    @TempDir
    Path dir;
    Path inspect;
    String arguments;
    final TestContext context = new TestContext();
    final PipeTransport pipe = new PipeTransport();

    @BeforeEach
    void setUp() throws Exception {
        Scripts.open(dir);
        inspect = Scripts.open(Files.createDirectory(dir.resolve("inspect")));
        Path sendmail = script(dir, "sendmail", ""
                + "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + dir.resolve("got.argv") + "\n"
                + "cat > " + dir.resolve("got.msg") + "\n");
        Path filtro = script(dir, "filtro", ""
                + "\n"
                + "# Definiciones\n"
                + "INSPECT_DIR=" + inspect + "\n"
                + "SENDMAIL=\"" + sendmail + " -i\"\n"
                + "\n"
                + "# Codigos de retorno <sysexit.h>\n"
                + "EX_TEMPFAIL=75\n"
                + "EX_UNAVAILABLE=69\n"
                + "\n"
                + "# Comienzo del proceso\n"
                + "cd $INSPECT_DIR || { echo \"\\n $INSPECT_DIR no existe\"; exit $EX_TEMPFAIL; }\n"
                + "\n"
                + "# Borra los ficheros cuando termine el proceso\n"
                + "trap \"rm -fr in.$$ tmp\" 0 1 2 3 15\n"
                + "\n"
                + "# Guarda el mensaje en un fichero\n"
                + "cat >in.$$ || { echo \"\\n No se puede salvar el mensaje en un fichero\"; exit $EX_TEMPFAIL; }\n"
                + "\n"
                + "# Descompone el mensaje en sus componentes (ripmime)\n"
                + "mkdir tmp && cp in.$$ tmp/\n"
                + "\n"
                + "# Analiza la presencia de virus (sweep)\n"
                + "! grep -q EICAR-STANDARD-ANTIVIRUS-TEST-FILE $INSPECT_DIR/tmp/* || { echo \"\\n Mensaje rechazado por"
                + " contener virus\"; exit $EX_UNAVAILABLE; }\n"
                + "\n"
                + "# Si todo bien, se encamina el mensaje\n"
                + "$SENDMAIL \"$@\" <in.$$\n"
                + "\n"
                + "exit $?\n");
        String user = Scripts.root() ? seguro() : Scripts.user();
        arguments = MASTER_CF_ARGS.replace("/etc/postfix/filtro", filtro.toString()).replace("user=seguro", "user=" + user);
    }

    /** The tutorial's user, created as a system user without a home when it does not exist yet. */
    private static String seguro() throws Exception {
        try {
            UnixAccount.lookup("seguro", null);
        } catch (UnknownAccountException missing) {
            Process p = new ProcessBuilder("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "seguro").inheritIO().start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "useradd seguro failed");
        }
        return "seguro";
    }

    private List<RecipientResult> deliver(String sender, String body) {
        BytesContent message = BytesContent.of("From: ana@example.org\nSubject: informe\n\n" + body + "\n");
        return pipe.deliver(request("filtro", arguments, sender, List.of("pepe@example.com", "luis garcia@example.com"),
                message), context);
    }

    @Test
    void cleanMessageIsHandedOnWithSenderAndEveryRecipient() throws Exception {
        List<RecipientResult> r = deliver("ana@example.org", "todo bien");
        for (RecipientResult x : r) {
            assertEquals(Status.DELIVERED, x.status(), x.toString());
            assertEquals("delivered via filtro service", x.reply().text());
            assertEquals("filtro", x.relay());
        }
        assertEquals("-i\n-f\nana@example.org\n--\npepe@example.com\n\"luis garcia\"@example.com\n", read(dir, "got.argv"),
                "q quotes the local part that has a space");
        assertEquals("Return-Path: <ana@example.org>\nFrom: ana@example.org\nSubject: informe\n\ntodo bien\n",
                read(dir, "got.msg"));
        try (var left = Files.list(inspect)) {
            assertEquals(0, left.count(), "the trap cleaned up");
        }
    }

    @Test
    void bounceGoesBackAsMailerDaemon() throws Exception {
        assertEquals(Status.DELIVERED, deliver("", "informe de entrega").get(0).status());
        assertEquals("-i\n-f\nMAILER-DAEMON\n--\npepe@example.com\n\"luis garcia\"@example.com\n", read(dir, "got.argv"));
        assertTrue(read(dir, "got.msg").startsWith("Return-Path: <MAILER-DAEMON>\n"));
    }

    @Test
    void virusIsBouncedWithTheScriptsWords() throws Exception {
        List<RecipientResult> r = deliver("ana@example.org", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
        for (RecipientResult x : r) {
            assertEquals(Status.BOUNCED, x.status());
            assertEquals("5.3.0", x.reply().enhancedStatus());
            // dash's echo turns the script's "\n" into a newline, and each newline becomes a space
            assertEquals("service unavailable. Command output:   Mensaje rechazado por contener virus ", x.reply().text());
        }
        assertFalse(Files.exists(dir.resolve("got.msg")), "nothing was handed on");
    }

    @Test
    void missingInspectDirectoryDefers() throws Exception {
        Files.delete(inspect);
        RecipientResult r = deliver("ana@example.org", "todo bien").get(0);
        assertEquals(Status.DEFERRED, r.status());
        assertEquals("4.3.0", r.reply().enhancedStatus());
        String text = r.reply().text();
        assertTrue(text.startsWith("temporary failure. Command output: ") && text.endsWith("  " + inspect + " no existe "),
                text);
    }
}
