package org.estafeta.sasl.internal;

import static org.estafeta.sasl.internal.Fixture.AUTH_FAILED;
import static org.estafeta.sasl.internal.Fixture.BAD_PROTOCOL;
import static org.estafeta.sasl.internal.Fixture.CLIENT;
import static org.estafeta.sasl.internal.Fixture.addUser;
import static org.estafeta.sasl.internal.Fixture.reply;
import static org.estafeta.sasl.internal.Fixture.respond;
import static org.estafeta.sasl.internal.Fixture.success;
import static org.estafeta.sasl.internal.Fixture.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.testing.Peers;
import org.estafeta.testing.ProcessRunner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CramMd5MechanismTest {
    static final String RFC_CHALLENGE = "<1896.697170952@postoffice.reston.mci.net>";
    static final String RFC_DIGEST = "b913a602c7eda7a495b4e6e7334d3890";

    @TempDir
    Path dir;
    Path db;
    TestContext context;

    @BeforeEach
    void setUp() {
        db = dir.resolve("sasldb");
        addUser(db, "tim", "tanstaaftanstaaf", "-m", "CRAM-MD5");
        addUser(db, "nocram", "tanstaaftanstaaf");
        context = new TestContext(SaslDbFiles.PATH_PARAMETER, db.toString(), "myhostname",
                "postoffice.reston.mci.net");
    }

    @Test
    void rfc2195ExampleThroughTheStoredStates() throws Exception {
        // the file holds only the states; the digest is computed from what was parsed back
        CramMd5Secret stored = SaslDb.read(db).get("tim").orElseThrow().cramMd5();
        assertEquals(RFC_DIGEST, HexFormat.of().formatHex(stored.hmac(RFC_CHALLENGE.getBytes(StandardCharsets.US_ASCII))));

        CramMd5Mechanism m = new CramMd5Mechanism(new SaslDbFiles(), c -> RFC_CHALLENGE);
        SaslExchange x = m.start(CLIENT, context);
        assertEquals(RFC_CHALLENGE, text(respond(x, null)));
        assertEquals("tim", success(respond(x, "tim " + RFC_DIGEST)));
    }

    @Test
    void statesAreTheOnesDovecotStoresForItsCramMd5Scheme() throws Exception {
        Path doveadm = Peers.require("/usr/bin/doveadm", "dovecot-core");
        ProcessRunner.Result r = ProcessRunner.run(List.of(doveadm.toString(), "pw", "-s", "CRAM-MD5", "-p",
                "tanstaaftanstaaf"), 30).ok();
        String dovecot = r.stdout().trim();
        assertTrue(dovecot.startsWith("{CRAM-MD5}"), dovecot);
        CramMd5Secret s = CramMd5Secret.derive("tanstaaftanstaaf");
        HexFormat hex = HexFormat.of();
        // Dovecot's hmac_md5_get_cram_context: the outer context's A..D, then the inner one's, little-endian
        assertEquals(dovecot.substring("{CRAM-MD5}".length()), hex.formatHex(s.outer()) + hex.formatHex(s.inner()));
    }

    @Test
    void challengeHasRandomTimestampAndMyhostname() throws Exception {
        SaslExchange x = new CramMd5Mechanism(new SaslDbFiles()).start(CLIENT, context);
        String c = text(respond(x, null));
        assertTrue(c.matches("<\\d+\\.697170952@postoffice\\.reston\\.mci\\.net>"), c);
        String c2 = text(respond(new CramMd5Mechanism(new SaslDbFiles()).start(CLIENT, context), null));
        assertTrue(!c.equals(c2), "two challenges must differ");
    }

    @Test
    void jdkCramMd5ClientAuthenticates() throws Exception {
        for (String password : List.of("tanstaaftanstaaf", "wrong")) {
            SaslClient client = Sasl.createSaslClient(new String[] {"CRAM-MD5"}, null, "smtp", "localhost", Map.of(),
                    callbacks -> {
                        for (var cb : callbacks) {
                            if (cb instanceof NameCallback n) {
                                n.setName("tim");
                            } else if (cb instanceof PasswordCallback p) {
                                p.setPassword(password.toCharArray());
                            }
                        }
                    });
            SaslExchange x = new CramMd5Mechanism(new SaslDbFiles()).start(CLIENT, context);
            byte[] challenge = ((org.estafeta.api.sasl.SaslStep.Challenge) x.respond(null)).data();
            var step = x.respond(client.evaluateChallenge(challenge));
            if (password.equals("wrong")) {
                assertEquals(AUTH_FAILED, reply(step));
            } else {
                assertEquals("tim", success(step));
            }
        }
    }

    @Test
    void failuresLookAlike() throws Exception {
        String right = digest("tanstaaftanstaaf", RFC_CHALLENGE);
        CramMd5Mechanism m = new CramMd5Mechanism(new SaslDbFiles(), c -> RFC_CHALLENGE);
        for (String response : List.of("tim " + digest("wrong", RFC_CHALLENGE), "nobody " + right,
                "nocram " + right)) {
            SaslExchange x = m.start(CLIENT, context);
            respond(x, null);
            assertEquals(AUTH_FAILED, reply(respond(x, response)), response);
        }
        assertTrue(context.lines(System.Logger.Level.INFO).stream()
                .anyMatch(l -> l.contains("no CRAM-MD5 secret in database")), context.lines.toString());
    }

    @Test
    void malformedResponsesAreProtocolFailures() throws Exception {
        CramMd5Mechanism m = new CramMd5Mechanism(new SaslDbFiles(), c -> RFC_CHALLENGE);
        for (String response : List.of("", "tim", " " + RFC_DIGEST, "tim b913a602", "tim " + RFC_DIGEST + "x",
                "tim " + RFC_DIGEST.replace('b', 'g'), "tim \uff11" + RFC_DIGEST.substring(1))) {
            SaslExchange x = m.start(CLIENT, context);
            respond(x, null);
            assertEquals(BAD_PROTOCOL, reply(respond(x, response)), response);
        }
        // no initial response allowed
        assertEquals(BAD_PROTOCOL, reply(respond(m.start(CLIENT, context), "tim " + RFC_DIGEST)));
        // but AUTH CRAM-MD5 = (an empty one) gets the challenge
        assertEquals(RFC_CHALLENGE, text(respond(m.start(CLIENT, context), "")));
    }

    static String digest(String password, String challenge) throws Exception {
        Mac mac = Mac.getInstance("HmacMD5");
        mac.init(new SecretKeySpec(password.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
        return HexFormat.of().formatHex(mac.doFinal(challenge.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void theFileNeverHoldsThePassword() throws Exception {
        String content = Files.readString(db);
        assertTrue(!content.contains("tanstaaftanstaaf"));
        assertTrue(!content.contains(java.util.Base64.getEncoder().encodeToString(
                "tanstaaftanstaaf".getBytes(StandardCharsets.UTF_8))));
    }
}
