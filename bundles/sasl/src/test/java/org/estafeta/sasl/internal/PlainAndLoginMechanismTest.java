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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.sasl.Sasl;
import javax.security.sasl.SaslClient;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslStep;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlainAndLoginMechanismTest {
    @TempDir
    Path dir;
    TestContext context;
    PlainMechanism plain;
    LoginMechanism login;

    @BeforeEach
    void setUp() {
        Path db = dir.resolve("sasldb");
        addUser(db, "alice@example.com", "correct horse");
        addUser(db, "bob", "p\u00e4ssw\u00f6rd");
        context = new TestContext(SaslDbFiles.PATH_PARAMETER, db.toString());
        SaslDbFiles files = new SaslDbFiles();
        plain = new PlainMechanism(files);
        login = new LoginMechanism(files);
    }

    private SaslStep plain(String response) throws Exception {
        return respond(plain.start(CLIENT, context), response);
    }

    @Test
    void jdkPlainClientAuthenticates() throws Exception {
        for (String[] c : List.of(new String[] {null, "bob", "p\u00e4ssw\u00f6rd", "bob"},
                new String[] {"bob", "bob", "p\u00e4ssw\u00f6rd", "bob"},
                new String[] {null, "bob", "passwort", null},
                new String[] {"alice@example.com", "bob", "p\u00e4ssw\u00f6rd", "authz"})) {
            SaslClient client = Sasl.createSaslClient(new String[] {"PLAIN"}, c[0], "smtp", "localhost", Map.of(),
                    callbacks -> {
                        for (var cb : callbacks) {
                            if (cb instanceof NameCallback n) {
                                n.setName(c[1]);
                            } else if (cb instanceof PasswordCallback p) {
                                p.setPassword(c[2].toCharArray());
                            }
                        }
                    });
            assertTrue(client.hasInitialResponse());
            SaslStep step = plain.start(CLIENT, context).respond(client.evaluateChallenge(new byte[0]));
            if (c[3] == null) {
                assertEquals(AUTH_FAILED, reply(step));
            } else if (c[3].equals("authz")) {
                assertEquals(AUTHZ_FAILED, reply(step));
            } else {
                assertEquals(c[3], success(step));
            }
        }
    }

    @Test
    void plainWithoutInitialResponseGetsAnEmptyChallenge() throws Exception {
        SaslExchange x = plain.start(CLIENT, context);
        assertEquals("", text(respond(x, null)));
        assertEquals("bob", success(respond(x, "\0bob\0p\u00e4ssw\u00f6rd")));
    }

    @Test
    void realmQualifiesBareNames() throws Exception {
        context.parameters.put(Users.REALM_PARAMETER, "example.com");
        assertEquals("alice@example.com", success(plain("\0alice\0correct horse")));
        assertEquals("alice@example.com", success(plain("alice\0alice\0correct horse")));
        assertEquals("alice@example.com", success(plain("alice@example.com\0alice\0correct horse")));
        // bob has no realm in the file: with a realm set he is bob@example.com, who does not exist
        assertEquals(AUTH_FAILED, reply(plain("\0bob\0p\u00e4ssw\u00f6rd")));
    }

    @Test
    void unknownUserGetsTheSameReplyAsAWrongPassword() throws Exception {
        assertEquals(AUTH_FAILED, reply(plain("\0alice@example.com\0wrong")));
        assertEquals(AUTH_FAILED, reply(plain("\0nobody\0correct horse")));
        assertEquals(AUTH_FAILED, reply(plain("\0\0correct horse")));
        assertFalse(context.lines.stream().anyMatch(l -> l.contains("correct horse") || l.contains("wrong")),
                context.lines.toString());
    }

    @Test
    void malformedPlainIsAProtocolFailure() throws Exception {
        for (String r : List.of("", "bob", "\0bob", "bobp\u00e4ssw\u00f6rd\0", "\0bob\0pw\0", "a\0b\0c\0d")) {
            assertEquals(BAD_PROTOCOL, reply(plain(r)), r.replace('\0', '|'));
        }
        assertEquals(BAD_PROTOCOL, reply(plain.start(CLIENT, context).respond(new byte[] {0, (byte) 0xc3, 0, 'x'})));
        SaslExchange x = plain.start(CLIENT, context);
        respond(x, "\0bob\0p\u00e4ssw\u00f6rd");
        assertEquals(BAD_PROTOCOL, reply(respond(x, "\0bob\0p\u00e4ssw\u00f6rd")));
    }

    @Test
    void loginAsksForUsernameAndPassword() throws Exception {
        SaslExchange x = login.start(CLIENT, context);
        assertEquals("Username:", text(respond(x, null)));
        assertEquals("Password:", text(respond(x, "bob")));
        assertEquals("bob", success(respond(x, "p\u00e4ssw\u00f6rd")));

        SaslExchange y = login.start(CLIENT, context);
        assertEquals("Password:", text(respond(y, "alice@example.com")));
        assertEquals(AUTH_FAILED, reply(respond(y, "wrong")));

        SaslExchange z = login.start(CLIENT, context);
        assertEquals("Password:", text(respond(z, "nobody")));
        assertEquals(AUTH_FAILED, reply(respond(z, "correct horse")));
        assertEquals(BAD_PROTOCOL, reply(respond(z, "again")));

        SaslExchange w = login.start(CLIENT, context);
        assertEquals(BAD_PROTOCOL, reply(w.respond(new byte[] {(byte) 0xff})));
    }
}
