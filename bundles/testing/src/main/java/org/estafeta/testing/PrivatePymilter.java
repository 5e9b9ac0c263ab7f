package org.estafeta.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A private, real milter scripted in Python: Debian's {@code python3-milter} (pymilter, on Sendmail's libmilter, the
 * library most milters are built on) runs a milter class the test writes, on {@code inet:PORT@127.0.0.1} (a free
 * port). The milter side of the protocol (negotiation, macros, replies, modification requests) is libmilter's own,
 * so what the test checks is the MTA talking to a real milter; only the decisions are the test's.
 *
 * <p>The test gives the Python source of a class {@code TestMilter} derived from {@code Milter.Base}; the harness
 * writes {@code DIR/test_milter_script.py} (not {@code milter.py}: that name would hide pymilter's C module
 * {@code milter}) with it between a prologue and an epilogue:
 * <ul>
 * <li>the prologue imports {@code Milter} and defines {@code log(*words)}, which appends one line (the words joined
 *     by spaces) to {@code DIR/events.log} and flushes it, so that the test can see which event came when
 *     ({@link #events});</li>
 * <li>the epilogue asks for every modification action ({@code Milter.set_flags}: add, change and delete headers,
 *     replace the body, add and delete recipients, change the sender, quarantine) and runs the class with
 *     {@code Milter.runmilter} on the port.</li>
 * </ul>
 * Python runs in the foreground as a child of the test JVM ({@value Peers#PYTHON3}, Debian's own: the module is not
 * in a pyenv interpreter), unbuffered, its output in {@code DIR/milter.out}; readiness is its port accepting a
 * connection (20 s at most). Missing {@code python3-milter} skips the test (or fails it, see {@link Peers}).
 *
 * <p>Threading: {@link #start}, {@link #stop} and {@link #close} from the test's thread; {@link #events} and
 * {@link #output} from any thread.
 */
public final class PrivatePymilter implements AutoCloseable {
    /** Where Debian's python3-milter puts the module. */
    public static final Path MODULE = Path.of("/usr/lib/python3/dist-packages/Milter/__init__.py");

    private static final String PROLOGUE = String.join("\n",
            "# private instance (PrivatePymilter): pymilter on libmilter, the test's TestMilter class",
            "import sys",
            "import Milter",
            "",
            "_EVENTS = sys.argv[2]",
            "",
            "def log(*words):",
            "    with open(_EVENTS, 'a', encoding='utf-8') as f:",
            "        f.write(' '.join(str(w) for w in words) + '\\n')",
            "",
            "");
    private static final String EPILOGUE = String.join("\n",
            "",
            "",
            "if __name__ == '__main__':",
            "    Milter.factory = TestMilter",
            "    Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.CHGBODY | Milter.ADDRCPT | Milter.DELRCPT",
            "                     | Milter.CHGFROM | Milter.QUARANTINE)",
            "    sys.stdout.write('pymilter listening on ' + sys.argv[1] + '\\n')",
            "    Milter.runmilter('estafeta-test', sys.argv[1], 60)",
            "");

    /**
     * A fixed {@code TestMilter} whose decisions are chosen by addresses and names, one per milter stage, for
     * {@link #start(Path, String)}. It logs every event ({@code connect NAME ADDR}, {@code helo NAME}, {@code mail
     * <SENDER> ARGS}, {@code mail-macros auth_type=X auth_authen=Y} (None when the client did not authenticate), {@code rcpt <RCPT> rcpt_addr=MACRO}, {@code data i=QUEUEID}, {@code header NAME REPR},
     * {@code eoh}, {@code body BYTES}, {@code eom}, {@code abort}, {@code close}) and answers:
     * <ul>
     * <li>CONNECT from {@code 127.0.0.2}: {@code 550 5.7.1 pymilter: connection from 127.0.0.2 refused};</li>
     * <li>HELO {@code reject.helo.test}: {@code 550 5.7.1 pymilter: HELO reject.helo.test refused};</li>
     * <li>MAIL from a local part {@code reject}: {@code 553 5.7.1 pymilter: sender refused};</li>
     * <li>RCPT to a local part {@code reject}: {@code 550 5.7.1 pymilter: recipient refused}; {@code tempfail}:
     *     {@code 451 4.7.1 pymilter: recipient deferred};</li>
     * <li>DATA of a transaction with a recipient whose local part is {@code nodata}: {@code 554 5.7.1 pymilter: no
     *     data for nodata};</li>
     * <li>the end of a message whose Subject contains {@code modify}: the Subject changed to {@code modified by
     *     pymilter} (chgheader), the first {@code X-Delete-Me} deleted (chgheader without a value), {@code X-Pymilter:
     *     modified} added (addheader), {@code <added@dest.test>} added (addrcpt), every recipient with the local part
     *     {@code remove} deleted (delrcpt), the sender changed to {@code <new-sender@sender.test>} (chgfrom), the
     *     body replaced by {@code body replaced by pymilter} (replacebody); whose Subject contains
     *     {@code quarantine}: quarantined with the reason {@code pymilter: quarantined}. Otherwise accepted.</li>
     * </ul>
     */
    public static final String STAGES = String.join("\n",
            "def _local(address):",
            "    return address.strip('<>').split('@')[0].lower()",
            "",
            "class TestMilter(Milter.Base):",
            "    def __init__(self):",
            "        self.subject = ''",
            "        self.rcpts = []",
            "",
            "    def connect(self, hostname, family, hostaddr):",
            "        address = hostaddr[0] if isinstance(hostaddr, tuple) else str(hostaddr)",
            "        log('connect', hostname, address)",
            "        if address == '127.0.0.2':",
            "            self.setreply('550', '5.7.1', 'pymilter: connection from 127.0.0.2 refused')",
            "            return Milter.REJECT",
            "        return Milter.CONTINUE",
            "",
            "    def hello(self, name):",
            "        log('helo', name)",
            "        if name == 'reject.helo.test':",
            "            self.setreply('550', '5.7.1', 'pymilter: HELO reject.helo.test refused')",
            "            return Milter.REJECT",
            "        return Milter.CONTINUE",
            "",
            "    def envfrom(self, sender, *args):",
            "        log('mail', sender, *args)",
            "        log('mail-macros', 'auth_type=' + str(self.getsymval('{auth_type}')),",
            "            'auth_authen=' + str(self.getsymval('{auth_authen}')))",
            "        self.subject = ''",
            "        self.rcpts = []",
            "        if _local(sender) == 'reject':",
            "            self.setreply('553', '5.7.1', 'pymilter: sender refused')",
            "            return Milter.REJECT",
            "        return Milter.CONTINUE",
            "",
            "    def envrcpt(self, recipient, *args):",
            "        log('rcpt', recipient, 'rcpt_addr=' + str(self.getsymval('{rcpt_addr}')), *args)",
            "        if _local(recipient) == 'reject':",
            "            self.setreply('550', '5.7.1', 'pymilter: recipient refused')",
            "            return Milter.REJECT",
            "        if _local(recipient) == 'tempfail':",
            "            self.setreply('451', '4.7.1', 'pymilter: recipient deferred')",
            "            return Milter.TEMPFAIL",
            "        self.rcpts.append(recipient)",
            "        return Milter.CONTINUE",
            "",
            "    def data(self):",
            "        log('data', 'i=' + str(self.getsymval('i')))",
            "        if any(_local(r) == 'nodata' for r in self.rcpts):",
            "            self.setreply('554', '5.7.1', 'pymilter: no data for nodata')",
            "            return Milter.REJECT",
            "        return Milter.CONTINUE",
            "",
            "    def header(self, name, value):",
            "        log('header', name, repr(value))",
            "        if name.lower() == 'subject':",
            "            self.subject = value",
            "        return Milter.CONTINUE",
            "",
            "    def eoh(self):",
            "        log('eoh')",
            "        return Milter.CONTINUE",
            "",
            "    def body(self, chunk):",
            "        log('body', len(chunk))",
            "        return Milter.CONTINUE",
            "",
            "    def eom(self):",
            "        log('eom', self.subject)",
            "        if 'modify' in self.subject:",
            "            self.chgheader('Subject', 1, 'modified by pymilter')",
            "            self.chgheader('X-Delete-Me', 1, None)",
            "            self.addheader('X-Pymilter', 'modified')",
            "            self.addrcpt('<added@dest.test>')",
            "            for r in self.rcpts:",
            "                if _local(r) == 'remove':",
            "                    self.delrcpt(r)",
            "            self.chgfrom('<new-sender@sender.test>')",
            "            self.replacebody(b'body replaced by pymilter\\r\\n')",
            "        if 'quarantine' in self.subject:",
            "            self.quarantine('pymilter: quarantined')",
            "        return Milter.ACCEPT",
            "",
            "    def abort(self):",
            "        log('abort')",
            "        return Milter.CONTINUE",
            "",
            "    def close(self):",
            "        log('close')",
            "        return Milter.CONTINUE",
            "");

    private final Path dir;
    private final int port;
    private Process process;

    private PrivatePymilter(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /**
     * Writes {@code DIR/test_milter_script.py} around {@code milterClass} (Python source defining {@code class
     * TestMilter(Milter.Base)}, indented as top-level code), starts it and returns once its port accepts.
     */
    public static PrivatePymilter start(Path dir, String milterClass) throws IOException, InterruptedException {
        Peers.require(Peers.PYTHON3, "python3");
        if (!Files.isRegularFile(MODULE)) {
            Peers.missing(MODULE + " is missing (Debian package python3-milter; scripts/install-peers.sh installs it)");
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("test_milter_script.py"), PROLOGUE + milterClass + EPILOGUE,
                StandardCharsets.UTF_8);
        PrivatePymilter m = new PrivatePymilter(dir, PeerProcesses.freePort());
        m.start();
        return m;
    }

    public int port() {
        return port;
    }

    /** {@code inet:127.0.0.1:PORT}, as smtpd_milters names it. */
    public String milterAddress() {
        return "inet:127.0.0.1:" + port;
    }

    /** Starts the milter and waits (20 s at most) until its port accepts connections. */
    public void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            return;
        }
        ProcessBuilder pb = new ProcessBuilder(Peers.PYTHON3, "-u", dir.resolve("test_milter_script.py").toString(),
                "inet:" + port + "@127.0.0.1", dir.resolve("events.log").toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("milter.out").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().remove("PYTHONPATH");
        pb.environment().remove("PYTHONHOME");
        process = pb.start();
        PeerProcesses.awaitListening(process, port, 20, "the python milter", this::output, this::stop);
    }

    /** Stops the milter (SIGTERM, SIGKILL after 10 s). */
    public void stop() {
        if (process == null) {
            return;
        }
        PeerProcesses.stop(process, 10);
        process = null;
    }

    @Override
    public void close() {
        stop();
    }

    /** The lines the script's {@code log(...)} wrote so far, in order. */
    public List<String> events() {
        try {
            Path p = dir.resolve("events.log");
            return Files.exists(p) ? Files.readAllLines(p, StandardCharsets.UTF_8) : List.of();
        } catch (IOException e) {
            return List.of("(events.log unreadable: " + e + ")");
        }
    }

    /** What Python and libmilter wrote to stdout and stderr (tracebacks of the script land here). */
    public String output() {
        return PeerProcesses.read(dir.resolve("milter.out"));
    }
}
