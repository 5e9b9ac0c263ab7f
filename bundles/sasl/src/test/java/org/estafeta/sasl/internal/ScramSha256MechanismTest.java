package org.estafeta.sasl.internal;

import static org.estafeta.sasl.internal.Fixture.AUTHZ_FAILED;
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
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.estafeta.api.sasl.SaslExchange;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScramSha256MechanismTest {
    // RFC 7677, section 3
    static final String SALT = "W22ZaJ0SNY7soEsUEjb6gQ==";
    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final String CLIENT_FIRST = "n,,n=user,r=" + CLIENT_NONCE;
    static final String SERVER_FIRST = "r=" + CLIENT_NONCE + SERVER_NONCE + ",s=" + SALT + ",i=4096";
    static final String CLIENT_FINAL = "c=biws,r=" + CLIENT_NONCE + SERVER_NONCE
            + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    @TempDir
    Path dir;
    TestContext context;
    ScramSha256Mechanism mechanism;

    @BeforeEach
    void setUp() throws Exception {
        Path db = dir.resolve("sasldb");
        // the RFC's user, with the RFC's salt: saslpasswd picks a random salt, so the entry is made here
        SaslDb.empty().with(new SaslDb.Entry("user", ScramSecret.derive("pencil", Base64.getDecoder().decode(SALT),
                4096), null)).write(db);
        addUser(db, "alice@example.com", "s3cret pass");
        context = new TestContext(SaslDbFiles.PATH_PARAMETER, db.toString());
        mechanism = new ScramSha256Mechanism(new SaslDbFiles(), () -> SERVER_NONCE);
    }

    @Test
    void rfc7677Example() throws Exception {
        SaslExchange x = mechanism.start(CLIENT, context);
        assertEquals("", text(respond(x, null)));
        assertEquals(SERVER_FIRST, text(respond(x, CLIENT_FIRST)));
        assertEquals(SERVER_FINAL, text(respond(x, CLIENT_FINAL)));
        assertEquals("user", success(respond(x, "")));
    }

    @Test
    void rfc7677ExampleWithInitialResponse() throws Exception {
        SaslExchange x = mechanism.start(CLIENT, context);
        assertEquals(SERVER_FIRST, text(respond(x, CLIENT_FIRST)));
        assertEquals(SERVER_FINAL, text(respond(x, CLIENT_FINAL)));
        assertEquals("user", success(respond(x, "")));
    }

    /** A SCRAM client written from the RFC with the JDK's PBKDF2, independent of the server's code. */
    static String clientFinal(String password, String clientFirstBare, String gs2, String serverFirst)
            throws Exception {
        String[] attrs = serverFirst.split(",");
        String nonce = attrs[0].substring(2);
        byte[] salt = Base64.getDecoder().decode(attrs[1].substring(2));
        int iterations = Integer.parseInt(attrs[2].substring(2));
        byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
        byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.UTF_8));
        byte[] storedKey = java.security.MessageDigest.getInstance("SHA-256").digest(clientKey);
        String withoutProof = "c=" + Base64.getEncoder().encodeToString(gs2.getBytes(StandardCharsets.UTF_8)) + ",r="
                + nonce;
        byte[] signature = hmac(storedKey,
                (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < clientKey.length; i++) {
            clientKey[i] ^= signature[i];
        }
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(clientKey);
    }

    static byte[] hmac(byte[] key, byte[] data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }

    private String run(String gs2, String user, String password) throws Exception {
        ScramSha256Mechanism m = new ScramSha256Mechanism(new SaslDbFiles());
        SaslExchange x = m.start(CLIENT, context);
        String bare = "n=" + user + ",r=clientnonce123";
        String serverFirst = text(respond(x, gs2 + bare));
        var step = respond(x, clientFinal(password, bare, gs2, serverFirst));
        if (step instanceof org.estafeta.api.sasl.SaslStep.Failure) {
            return reply(step);
        }
        assertTrue(text(step).startsWith("v="));
        return success(respond(x, ""));
    }

    @Test
    void independentClientWithRealmAndRandomSalt() throws Exception {
        assertEquals("alice@example.com", run("n,,", "alice@example.com", "s3cret pass"));
        context.parameters.put(Users.REALM_PARAMETER, "example.com");
        assertEquals("alice@example.com", run("y,,", "alice", "s3cret pass"));
        assertEquals("alice@example.com", run("n,a=alice,", "alice", "s3cret pass"));
        assertEquals("alice@example.com", run("n,a=alice@example.com,", "alice", "s3cret pass"));
    }

    @Test
    void wrongPasswordAndUnknownUserGetTheSameReply() throws Exception {
        assertEquals(AUTH_FAILED, run("n,,", "user", "pencil2"));
        assertEquals(AUTH_FAILED, run("n,,", "nobody", "pencil"));
        // the unknown user's salt is stable, so that asking twice does not tell
        SaslExchange a = new ScramSha256Mechanism(new SaslDbFiles(), () -> "sn").start(CLIENT, context);
        SaslExchange b = new ScramSha256Mechanism(new SaslDbFiles(), () -> "sn").start(CLIENT, context);
        assertEquals(text(respond(a, "n,,n=nobody,r=c")), text(respond(b, "n,,n=nobody,r=c")));
    }

    @Test
    void otherAuthorizationIdentityFails() throws Exception {
        assertEquals(AUTHZ_FAILED, run("n,a=root,", "user", "pencil"));
    }

    @Test
    void channelBindingAndMalformedFirstMessagesAreRefused() throws Exception {
        for (String first : List.of("p=tls-unique,,n=user,r=abc", "x,,n=user,r=abc", "n,,", "n,,n=user",
                "n,,r=abc,n=user", "n,,m=ext,n=user,r=abc", "n,b=x,n=user,r=abc", "n,,n=us=4Aer,r=abc",
                "n,,n=user,r=", "n,,n=user,r=a\u00e9", "n,,n=\0user,r=abc", "n")) {
            SaslExchange x = mechanism.start(CLIENT, context);
            assertEquals(BAD_PROTOCOL, reply(respond(x, first)), first);
            assertEquals(BAD_PROTOCOL, reply(respond(x, "")), "finished exchange, " + first);
        }
        SaslExchange x = mechanism.start(CLIENT, context);
        respond(x, null);
        assertEquals(BAD_PROTOCOL, reply(x.respond(new byte[] {(byte) 0xff, ',', ','})));
    }

    @Test
    void malformedFinalMessagesAreRefused() throws Exception {
        String nonce = CLIENT_NONCE + SERVER_NONCE;
        for (String fin : List.of("", "c=biws,r=" + nonce, "c=biws,p=abc", "c=eSws,r=" + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                "c=biws,r=" + nonce + "x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                "c=biws,r=" + nonce + ",p=!!!", "c=biws,r=" + nonce + ",p=AAAA", "c=bi!s,r=" + nonce + ",p=AAAA")) {
            SaslExchange x = mechanism.start(CLIENT, context);
            respond(x, CLIENT_FIRST);
            assertEquals(BAD_PROTOCOL, reply(respond(x, fin)), fin);
        }
        // anything but an empty response after the server signature
        SaslExchange x = mechanism.start(CLIENT, context);
        respond(x, CLIENT_FIRST);
        respond(x, CLIENT_FINAL);
        assertEquals(BAD_PROTOCOL, reply(respond(x, "extra")));
    }

    @Test
    void verifierIsTheOneDovecotComputesForItsScramScheme() throws Exception {
        Path doveadm = org.estafeta.testing.Peers.require("/usr/bin/doveadm", "dovecot-core");
        String out = org.estafeta.testing.ProcessRunner.run(List.of(doveadm.toString(), "pw", "-s", "SCRAM-SHA-256",
                "-p", "pencil"), 30).ok().stdout().trim();
        assertTrue(out.startsWith("{SCRAM-SHA-256}"), out);
        // {SCRAM-SHA-256}iterations,salt,StoredKey,ServerKey
        String[] f = out.substring("{SCRAM-SHA-256}".length()).split(",");
        ScramSecret mine = ScramSecret.derive("pencil", Base64.getDecoder().decode(f[1]), Integer.parseInt(f[0]));
        assertEquals(f[2], Base64.getEncoder().encodeToString(mine.storedKey()));
        assertEquals(f[3], Base64.getEncoder().encodeToString(mine.serverKey()));
        // and Dovecot's entry, copied field by field into the file, logs in
        Path db = dir.resolve("dovecot-made");
        java.nio.file.Files.writeString(db, "carol:SCRAM-SHA-256:" + String.join(":", f) + "\n");
        context.parameters.put(SaslDbFiles.PATH_PARAMETER, db.toString());
        assertEquals("carol", run("n,,", "carol", "pencil"));
        assertEquals(AUTH_FAILED, run("n,,", "carol", "pencil!"));
    }
}
