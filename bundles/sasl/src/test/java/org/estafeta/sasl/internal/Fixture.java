package org.estafeta.sasl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslStep;
import org.estafeta.sasl.SaslPasswd;

/** Shared helpers: a password file kept with the real saslpasswd, a client, step assertions. */
final class Fixture {
    static final ClientInfo CLIENT = new ClientInfo("192.0.2.1", "client.example", "client.example", false,
            Optional.empty());
    static final String AUTH_FAILED = "535 5.7.8 Error: authentication failed: authentication failure";
    static final String AUTHZ_FAILED = "535 5.7.8 Error: authentication failed: authorization failure";
    static final String BAD_PROTOCOL = "535 5.7.8 Error: authentication failed: bad protocol / cancel";

    private Fixture() {
    }

    /** Runs saslpasswd; returns {exit, stdout, stderr}. */
    static String[] saslpasswd(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = SaslPasswd.run(List.of(args), new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {Integer.toString(exit), out.toString(StandardCharsets.UTF_8),
            err.toString(StandardCharsets.UTF_8)};
    }

    static void addUser(Path db, String user, String password, String... options) {
        List<String> args = new ArrayList<>(List.of("-f", db.toString(), "-c", "-p"));
        args.addAll(List.of(options));
        args.add(user);
        String[] r = saslpasswd(password + "\n", args.toArray(String[]::new));
        assertEquals("0", r[0], r[2]);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(SaslStep step) {
        return new String(((SaslStep.Challenge) step).data(), StandardCharsets.UTF_8);
    }

    static String reply(SaslStep step) {
        return ((SaslStep.Failure) step).reply().toString();
    }

    static String success(SaslStep step) {
        return ((SaslStep.Success) step).username();
    }

    static SaslStep respond(SaslExchange x, String response) throws IOException {
        return x.respond(response == null ? null : bytes(response));
    }
}
