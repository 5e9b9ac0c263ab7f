package org.estafeta.transport.pipe.internal;

import org.estafeta.testing.BytesContent;

import static org.estafeta.transport.pipe.internal.Scripts.read;
import static org.estafeta.transport.pipe.internal.Scripts.recorder;
import static org.estafeta.transport.pipe.internal.Scripts.request;
import static org.estafeta.transport.pipe.internal.Scripts.script;
import static org.estafeta.transport.pipe.internal.Scripts.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.process.support.UnixAccount;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PipeTransportTest {
    private static final BytesContent MESSAGE = BytesContent.of(
            "From: ana@example.org\nSubject: prueba\n\n.punto\nFrom aqui\nfin\n");
    private static final List<String> ONE = List.of("rcpt@example.com");

    @TempDir
    Path dir;
    final TestContext context = new TestContext();
    final PipeTransport pipe = new PipeTransport();

    @BeforeEach
    void openDir() throws Exception {
        Scripts.open(dir);
    }

    private List<RecipientResult> deliver(String arguments, List<String> recipients) {
        return pipe.deliver(request("filtro", arguments, "sender@example.org", recipients, MESSAGE), context);
    }

    private static void assertResult(RecipientResult r, Status status, String dsn, String text) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(dsn, r.reply().enhancedStatus(), r.toString());
        assertEquals(text, r.reply().text());
        assertEquals("filtro", r.relay(), "relay= is the service name");
    }

    @Test
    void deliversAndExpandsEveryRecipientIntoItsOwnArgument() throws Exception {
        Path cmd = recorder(dir, "", 0);
        List<RecipientResult> results = deliver("flags=Rq user=" + user() + " argv=" + cmd
                + " -f ${sender} -n $nexthop -s ${size} -q ${queue_id} -c ${client_address} ${client_hostname}"
                + " ${client_helo} ${sasl_username} -- ${recipient}",
                List.of("a@example.com", "john doe@example.net", "C@Example.COM"));
        assertEquals(3, results.size());
        for (RecipientResult r : results) {
            assertResult(r, Status.DELIVERED, "2.0.0", "delivered via filtro service");
            assertEquals(250, r.reply().code());
        }
        assertEquals(List.of("a@example.com", "john doe@example.net", "C@Example.COM"),
                results.stream().map(RecipientResult::recipient).toList());
        assertEquals(String.join("\n", "-f", "sender@example.org", "-n", "Example.COM", "-s",
                Long.toString(MESSAGE.size()), "-q", "4Xyz123", "-c", "192.0.2.7", "mail.example.org",
                "helo.example.org", "ana", "--", "a@example.com", "\"john doe\"@example.net", "C@Example.COM") + "\n",
                read(dir, "out.argv"));
        assertEquals("Return-Path: <sender@example.org>\nFrom: ana@example.org\nSubject: prueba\n\n.punto\nFrom aqui\nfin\n",
                read(dir, "out.stdin"), "R flag, LF line ends, nothing else changed");
    }

    @Test
    void hFoldsNexthopAndDomainsUFoldsLocalParts() throws Exception {
        Path cmd = recorder(dir, "", 0);
        deliver("flags=hu user=" + user() + " argv=" + cmd + " ${nexthop} ${recipient} ${domain} ${user}",
                List.of("Ana.Lopez@Example.COM"));
        assertEquals("example.com\nana.lopez@example.com\nexample.com\nana.lopez\n", read(dir, "out.argv"));
        deliver("user=" + user() + " argv=" + cmd + " ${nexthop} ${recipient}", List.of("Ana.Lopez@Example.COM"));
        assertEquals("Example.COM\nAna.Lopez@Example.COM\n", read(dir, "out.argv"));
    }

    @Test
    void flagsShapeTheBytesOnStandardInput() throws Exception {
        Path cmd = recorder(dir, "", 0);
        deliver("flags=FRODB.> eol=\\r\\n user=" + user() + " argv=" + cmd, ONE);
        assertEquals("From sender@example.org  Tue Jan  7 12:02:20 2003\r\n"
                + "Return-Path: <sender@example.org>\r\n"
                + "X-Original-To: rcpt@example.com\r\n"
                + "Delivered-To: rcpt@example.com\r\n"
                + "From: ana@example.org\r\nSubject: prueba\r\n\r\n..punto\r\n>From aqui\r\nfin\r\n\r\n",
                read(dir, "out.stdin"));
    }

    @Test
    void nullSenderIsMailerDaemonUnlessReplaced() throws Exception {
        Path cmd = recorder(dir, "", 0);
        pipe.deliver(request("filtro", "flags=R user=" + user() + " argv=" + cmd + " -f ${sender}", "", ONE, MESSAGE),
                context);
        assertEquals("-f\nMAILER-DAEMON\n", read(dir, "out.argv"));
        assertTrue(read(dir, "out.stdin").startsWith("Return-Path: <MAILER-DAEMON>\n"));
        pipe.deliver(request("filtro", "flags=Rq null_sender= user=" + user() + " argv=" + cmd + " -f ${sender}", "", ONE,
                MESSAGE), context);
        assertEquals("-f\n\n", read(dir, "out.argv"), "an empty sender is its own argument, not quoted");
        assertTrue(read(dir, "out.stdin").startsWith("Return-Path: <>\n"));
    }

    @Test
    void environmentIsExportEnvironmentAndPath() throws Exception {
        Path cmd = recorder(dir, "", 0);
        context.with("export_environment", "TZ {GREETING=hola mundo}, LANG");
        deliver("user=" + user() + " argv=" + cmd, ONE);
        List<String> env = List.of(read(dir, "out.env").split("\n"));
        assertTrue(env.contains("PATH=/usr/bin:/bin"), env.toString());
        assertTrue(env.contains("GREETING=hola mundo"), env.toString());
        assertFalse(env.stream().anyMatch(e -> e.startsWith("HOME=") || e.startsWith("JAVA_HOME=")), env.toString());
        if (System.getenv("LANG") != null) {
            assertTrue(env.contains("LANG=" + System.getenv("LANG")));
        }
    }

    @Test
    void workingDirectoryIsDirectoryAttribute() throws Exception {
        Path cmd = recorder(dir, "", 0);
        deliver("directory=" + dir + " user=" + user() + " argv=" + cmd, ONE);
        assertEquals(dir.toRealPath() + "\n", read(dir, "out.pwd"));
        List<RecipientResult> r = deliver("directory=" + dir.resolve("missing") + " user=" + user() + " argv=" + cmd, ONE);
        assertEquals(Status.DEFERRED, r.get(0).status());
        assertTrue(r.get(0).reply().text().startsWith("temporary failure. Command output: pipe: fatal: cannot change "
                + "directory to \"" + dir.resolve("missing") + "\""), r.get(0).reply().text());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "75 | | DEFERRED | 4.3.0 | temporary failure",
        "69 | sin virus | BOUNCED | 5.3.0 | service unavailable. Command output: sin virus",
        "67 | | BOUNCED | 5.1.1 | user unknown",
        "71 | | DEFERRED | 4.3.0 | system resource problem",
        "78 | | BOUNCED | 5.3.5 | local configuration error",
        "1 | oops | BOUNCED | 5.3.0 | Command died with status 1: \"CMD\". Command output: oops",
        "42 | | BOUNCED | 5.3.0 | Command died with status 42: \"CMD\"",
        "1 | 4.7.1 try later | DEFERRED | 4.7.1 | try later",
        "75 | 5.1.1 no such user | BOUNCED | 5.1.1 | no such user",
        "0 | queued as 123 | DELIVERED | 2.0.0 | delivered via filtro service (queued as 123)",
    })
    void exitStatusAndOutputAsPostfix(int exit, String output, Status status, String dsn, String text) throws Exception {
        Path cmd = recorder(dir, output == null ? "" : output, exit);
        List<RecipientResult> r = deliver("user=" + user() + " argv=" + cmd + " ${recipient}",
                List.of("a@example.com", "b@example.com"));
        assertEquals(2, r.size());
        for (RecipientResult x : r) {
            assertResult(x, status, dsn, text.replace("CMD", cmd.toString()));
        }
    }

    @Test
    void outputIsOnePrintableLineOfAtMost4096Bytes() throws Exception {
        Path cmd = script(dir, "noisy.sh", "printf 'a\\tb\\nc\\001d\\n'; head -c 5000 /dev/zero | tr '\\0' x; exit 1\n");
        RecipientResult r = deliver("user=" + user() + " argv=" + cmd, ONE).get(0);
        String prefix = "Command died with status 1: \"" + cmd + "\". Command output: a b c_d ";
        assertTrue(r.reply().text().startsWith(prefix), r.reply().text());
        assertEquals(4096 - "a\tb\nc\001d\n".length(), r.reply().text().length() - prefix.length());
    }

    @Test
    void signalDefers() throws Exception {
        Path cmd = script(dir, "die.sh", "kill -TERM $$\n");
        assertResult(deliver("user=" + user() + " argv=" + cmd, ONE).get(0), Status.DEFERRED, "4.3.0",
                "Command died with signal 15: \"" + cmd + "\"");
    }

    @Test
    void timeLimitKillsTheCommandAndItsChildrenAndBouncesAsPostfixDoes() throws Exception {
        Path cmd = script(dir, "slow.sh", "echo started; sleep 60 & echo $! > " + dir.resolve("sleep.pid") + "; wait\n");
        context.with("filtro_time_limit", "1s").with("command_time_limit", "1000s");
        long start = System.nanoTime();
        RecipientResult r = deliver("user=" + user() + " argv=" + cmd, ONE).get(0);
        long took = (System.nanoTime() - start) / 1_000_000;
        assertResult(r, Status.BOUNCED, "5.3.0", "Command time limit exceeded: \"" + cmd + "\". Command output: started ");
        assertTrue(took >= 900 && took < 10_000, took + " ms");
        long sleeper = Long.parseLong(read(dir, "sleep.pid").strip());
        assertFalse(running(sleeper), "the child was killed too");
    }

    /** Whether the process exists and is not a zombie (an orphan waits for init to reap it; the JDK calls it alive). */
    private static boolean running(long pid) throws InterruptedException {
        for (int i = 0; i < 20; i++) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                if (stat.charAt(stat.lastIndexOf(')') + 2) == 'Z') {
                    return false;
                }
            } catch (java.io.IOException gone) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }

    @Test
    void commandTimeLimitAppliesWithoutAServiceOne() throws Exception {
        Path cmd = script(dir, "slow.sh", "sleep 60\n");
        context.with("command_time_limit", "1s");
        RecipientResult r = deliver("user=" + user() + " argv=" + cmd, ONE).get(0);
        assertEquals(Status.BOUNCED, r.status());
        assertTrue(r.reply().text().startsWith("Command time limit exceeded"), r.reply().text());
    }

    @Test
    void commandThatStopsReadingEarlyStillDelivers() throws Exception {
        Path cmd = script(dir, "early.sh", "head -c 1 >/dev/null; exit 0\n");
        byte[] big = new byte[5_000_000];
        java.util.Arrays.fill(big, (byte) 'x');
        List<RecipientResult> r = pipe.deliver(request("filtro", "user=" + user() + " argv=" + cmd, "s@x", ONE,
                new BytesContent(big)), context);
        assertEquals(Status.DELIVERED, r.get(0).status(), "EPIPE is not an error when the command exits 0, as in Postfix");
    }

    @Test
    void runsAsTheUserAndGroupOfUserAttribute() throws Exception {
        assumeTrue(Scripts.root(), "switching users needs root");
        Path cmd = recorder(dir, "", 0);
        deliver("user=nobody argv=" + cmd, ONE);
        UnixAccount nobody = UnixAccount.lookup("nobody", null);
        assertEquals(nobody.uid() + "\n", read(dir, "out.uid"));
        assertEquals(nobody.gid() + "\n", read(dir, "out.gid"));
        deliver("user=nobody:daemon argv=" + cmd, ONE);
        assertEquals(nobody.uid() + "\n", read(dir, "out.uid"));
        assertEquals(UnixAccount.lookup("daemon", "daemon").gid() + "\n", read(dir, "out.gid"));
    }

    @Test
    void rootAndUnknownUsersAreRefusedWithADeferral() throws Exception {
        Path cmd = recorder(dir, "", 0);
        assertResult(deliver("user=root argv=" + cmd, ONE).get(0), Status.DEFERRED, "4.3.5",
                "mail system configuration error: user= command-line attribute specifies root privileges");
        assertResult(deliver("user=nobody:root argv=" + cmd, ONE).get(0), Status.DEFERRED, "4.3.5",
                "mail system configuration error: user= command-line attribute specifies privileged group id 0");
        assertResult(deliver("user=no-such-user-here argv=" + cmd, ONE).get(0), Status.DEFERRED, "4.3.5",
                "mail system configuration error: unknown username: no-such-user-here");
        assertFalse(Files.exists(dir.resolve("out.argv")), "the command never ran");
        assertEquals(3, context.warnings.size(), context.warnings.toString());
        assertTrue(context.warnings.get(0).startsWith("master.cf service filtro: user= command-line attribute"));
    }

    @Test
    void configurationMistakesDefer() throws Exception {
        Path cmd = recorder(dir, "", 0);
        assertResult(deliver("user=" + user() + " argv=" + cmd + " ${bogus}", ONE).get(0), Status.DEFERRED, "4.3.5",
                "mail system configuration error: unknown macro name: \"bogus\"");
        assertResult(deliver("flags=D user=" + user() + " argv=" + cmd, List.of("a@x", "b@x")).get(1), Status.DEFERRED,
                "4.3.5", "mail system configuration error");
        assertTrue(context.warnings.contains("pipe flag `D' requires filtro_destination_recipient_limit = 1"));
        assertResult(deliver("user=" + user() + " argv=" + dir.resolve("missing"), ONE).get(0), Status.DEFERRED, "4.3.0",
                "temporary failure. Command output: pipe: fatal: pipe_command: execvp " + dir.resolve("missing")
                        + ": No such file or directory");
        assertFalse(Files.exists(dir.resolve("out.argv")));
    }

    @Test
    void sizeLimitAndDeliveredToLoopBounce() throws Exception {
        Path cmd = recorder(dir, "", 0);
        assertResult(deliver("size=10 user=" + user() + " argv=" + cmd, ONE).get(0), Status.BOUNCED, "5.2.3",
                "message too large");
        BytesContent looped = BytesContent.of("Delivered-To: RCPT@example.com\nSubject: x\n\nbody\n");
        assertResult(pipe.deliver(request("filtro", "flags=D user=" + user() + " argv=" + cmd, "s@x", ONE, looped),
                context).get(0), Status.BOUNCED, "5.4.6", "mail forwarding loop for rcpt@example.com");
        assertFalse(Files.exists(dir.resolve("out.argv")));
    }

    @Test
    void commandWithoutSlashIsLookedUpInUsrBinAndBin() throws Exception {
        List<RecipientResult> r = deliver("user=" + user() + " argv=true", ONE);
        assertEquals(Status.DELIVERED, r.get(0).status(), r.toString());
        r = deliver("user=" + user() + " argv=false", ONE);
        assertResult(r.get(0), Status.BOUNCED, "5.3.0", "Command died with status 1: \"false\"");
    }
}
