package org.estafeta.sasl.internal;

import static org.estafeta.sasl.internal.Fixture.addUser;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslSession;
import org.estafeta.api.sasl.SaslStep;
import org.estafeta.testing.Swaks;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real swaks authenticating against the back end, through a minimal SMTP responder of this test's own that
 * speaks only EHLO, AUTH and QUIT the way Postfix's smtpd_sasl_glue.c does (smtpd itself is another bundle).
 */
class SwaksInteropTest {
    @TempDir
    Path dir;
    TestContext context;
    BuiltinSaslServer server;
    ServerSocket listener;
    Thread acceptor;

    @BeforeEach
    void setUp() throws IOException {
        Path db = dir.resolve("sasldb");
        addUser(db, "tim@example.com", "tanstaaftanstaaf", "-m", "CRAM-MD5");
        context = new TestContext(SaslDbFiles.PATH_PARAMETER, db.toString(), "myhostname", "mx.example.com");
        server = new BuiltinSaslServer();
        SaslDbFiles files = new SaslDbFiles();
        long id = 1;
        server.addMechanism(new PlainMechanism(files), BuiltinSaslServerTest.props("PLAIN", id++, 0));
        server.addMechanism(new LoginMechanism(files), BuiltinSaslServerTest.props("LOGIN", id++, 0));
        server.addMechanism(new CramMd5Mechanism(files), BuiltinSaslServerTest.props("CRAM-MD5", id++, 0));
        server.addMechanism(new ScramSha256Mechanism(files), BuiltinSaslServerTest.props("SCRAM-SHA-256", id++, 0));
        listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::serve, "auth-responder");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        listener.close();
        acceptor.join(5000);
    }

    private void serve() {
        while (!listener.isClosed()) {
            try (Socket s = listener.accept()) {
                s.setSoTimeout(20_000);
                session(new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)),
                        new OutputStreamWriter(s.getOutputStream(), StandardCharsets.US_ASCII));
            } catch (IOException closed) {
                // listener closed at the end of the test, or the client went away
            }
        }
    }

    private void session(BufferedReader in, Writer out) throws IOException {
        send(out, "220 mx.example.com ESMTP");
        String line;
        while ((line = in.readLine()) != null) {
            String upper = line.toUpperCase();
            if (upper.startsWith("EHLO")) {
                String mechs = server.mechanisms(context).stream().map(SaslMechanismInfo::name)
                        .collect(Collectors.joining(" "));
                send(out, "250-mx.example.com\r\n250 AUTH " + mechs);
            } else if (upper.startsWith("AUTH ")) {
                auth(line.substring(5).trim().split(" "), in, out);
            } else if (upper.startsWith("QUIT")) {
                send(out, "221 2.0.0 Bye");
                return;
            } else {
                send(out, "502 5.5.2 Error: command not recognized");
            }
        }
    }

    private void auth(String[] words, BufferedReader in, Writer out) throws IOException {
        SaslExchange x = server.start(words[0], new SaslSession(Fixture.CLIENT, 1, "127.0.0.1", listener.getLocalPort(),
                "smtp", "example.com"), context);
        byte[] response = words.length < 2 ? null
                : words[1].equals("=") ? new byte[0] : Base64.getDecoder().decode(words[1]);
        while (true) {
            SaslStep step = x.respond(response);
            if (step instanceof SaslStep.Challenge c) {
                send(out, "334 " + Base64.getEncoder().encodeToString(c.data()));
                String r = in.readLine();
                if (r == null || r.equals("*")) {
                    send(out, "501 5.7.0 Authentication aborted");
                    return;
                }
                response = Base64.getDecoder().decode(r);
            } else if (step instanceof SaslStep.Success) {
                send(out, "235 2.7.0 Authentication successful");
                return;
            } else {
                send(out, ((SaslStep.Failure) step).reply().toString());
                return;
            }
        }
    }

    private static void send(Writer out, String text) throws IOException {
        out.write(text + "\r\n");
        out.flush();
    }

    @ParameterizedTest
    @ValueSource(strings = {"PLAIN", "LOGIN", "CRAM-MD5"})
    void swaksAuthenticates(String mechanism) throws Exception {
        Swaks.Transcript ok = Swaks.run(listener.getLocalPort(), "--auth", mechanism, "--auth-user", "tim",
                "--auth-password", "tanstaaftanstaaf", "--quit-after", "AUTH");
        assertEquals("235 2.7.0 Authentication successful", ok.last("235"), ok.result().output());
        assertTrue(ok.serverLines().contains("250 AUTH SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN"), ok.serverLines().toString());

        Swaks.Transcript bad = Swaks.run(listener.getLocalPort(), "--auth", mechanism, "--auth-user", "tim",
                "--auth-password", "tanstaaftanstaaX", "--quit-after", "AUTH");
        assertEquals("535 5.7.8 Error: authentication failed: authentication failure", bad.last("535"),
                bad.result().output());
        Swaks.Transcript unknown = Swaks.run(listener.getLocalPort(), "--auth", mechanism, "--auth-user", "tom",
                "--auth-password", "tanstaaftanstaaf", "--quit-after", "AUTH");
        assertEquals(bad.last("535"), unknown.last("535"), unknown.result().output());
        assertEquals(List.of(), context.lines(System.Logger.Level.WARNING));
    }
}
