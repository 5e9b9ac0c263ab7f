package org.estafeta.sasl.internal;

import static org.estafeta.sasl.internal.Fixture.CLIENT;
import static org.estafeta.sasl.internal.Fixture.addUser;
import static org.estafeta.sasl.internal.Fixture.respond;
import static org.estafeta.sasl.internal.Fixture.success;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanism;
import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslMechanismInfo.Flag;
import org.estafeta.api.sasl.SaslSession;
import org.estafeta.api.sasl.SaslStep;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuiltinSaslServerTest {
    @TempDir
    Path dir;
    TestContext context;
    BuiltinSaslServer server;
    long nextId = 1;

    static Map<String, Object> props(String name, long id, int ranking) {
        Map<String, Object> m = new HashMap<>();
        m.put(SaslMechanism.NAME, name);
        m.put("service.id", id);
        m.put("service.ranking", ranking);
        return m;
    }

    /** A third-party mechanism that answers success at once with a fixed name. */
    record Fixed(String user, boolean plaintext) implements SaslMechanism {
        @Override
        public SaslExchange start(ClientInfo client, PluginContext context) {
            return response -> new SaslStep.Success(user);
        }
    }

    @BeforeEach
    void setUp() {
        Path db = dir.resolve("sasldb");
        addUser(db, "alice@example.com", "secret");
        context = new TestContext(SaslDbFiles.PATH_PARAMETER, db.toString());
        server = new BuiltinSaslServer();
        SaslDbFiles files = new SaslDbFiles();
        // bound in a scrambled order on purpose
        server.addMechanism(new LoginMechanism(files), props("LOGIN", nextId++, 0));
        server.addMechanism(new Fixed("x", false), props("XOAUTH2", nextId++, 0));
        server.addMechanism(new PlainMechanism(files), props("PLAIN", nextId++, 0));
        server.addMechanism(new Fixed("anonymous", false), props("ANONYMOUS", nextId++, 0));
        server.addMechanism(new ScramSha256Mechanism(files), props("SCRAM-SHA-256", nextId++, 0));
        server.addMechanism(new CramMd5Mechanism(files), props("CRAM-MD5", nextId++, 0));
    }

    private SaslSession session(String realm) {
        return new SaslSession(CLIENT, 40000, "127.0.0.1", 25, "smtp", realm);
    }

    @Test
    void stableOrderAndCyrusFlags() {
        List<SaslMechanismInfo> m = server.mechanisms(context);
        assertEquals(List.of("SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "LOGIN", "ANONYMOUS", "XOAUTH2"),
                m.stream().map(SaslMechanismInfo::name).toList());
        assertEquals(Set.of(Flag.DICTIONARY, Flag.MUTUAL_AUTH), m.get(0).flags());
        assertEquals(Set.of(Flag.ACTIVE, Flag.DICTIONARY), m.get(1).flags());
        assertEquals(EnumSet.of(Flag.PLAINTEXT, Flag.ACTIVE, Flag.DICTIONARY), m.get(2).flags());
        assertEquals(EnumSet.of(Flag.PLAINTEXT, Flag.ACTIVE, Flag.DICTIONARY), m.get(3).flags());
        assertEquals(Set.of(Flag.ANONYMOUS), m.get(4).flags());
        assertEquals(Set.of(), m.get(5).flags());
    }

    @Test
    void mechanismsComeAndGo() throws Exception {
        Fixed a = new Fixed("first", true);
        Fixed b = new Fixed("second", true);
        server.addMechanism(a, props("x-test", 100, 0));
        server.addMechanism(b, props("X-TEST", 101, 5));
        List<SaslMechanismInfo> m = server.mechanisms(context);
        assertEquals(List.of("SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "LOGIN", "ANONYMOUS", "X-TEST", "XOAUTH2"),
                m.stream().map(SaslMechanismInfo::name).toList());
        assertEquals(new SaslMechanismInfo("X-TEST", Set.of(Flag.PLAINTEXT)), m.get(5));
        // the higher ranking wins; then the other one once it is gone
        assertEquals("second", success(server.start("x-test", session(""), context).respond(null)));
        server.removeMechanism(b, props("X-TEST", 101, 5));
        assertEquals("first", success(server.start("X-TEST", session(""), context).respond(null)));
        server.removeMechanism(a, props("X-TEST", 100, 0));
        assertEquals(6, server.mechanisms(context).size());
        IOException e = assertThrows(IOException.class, () -> server.start("X-TEST", session(""), context));
        assertTrue(e.getMessage().contains("X-TEST"), e.getMessage());
    }

    @Test
    void sessionRealmQualifiesNames() throws Exception {
        SaslExchange x = server.start("PLAIN", session("example.com"), context);
        assertEquals("alice@example.com", success(respond(x, "\0alice\0secret")));
        // without a realm the bare name is looked up as it is
        x = server.start("PLAIN", session(""), context);
        assertEquals(Fixture.AUTH_FAILED, Fixture.reply(respond(x, "\0alice\0secret")));
        // main.cf's value does not override the session's
        context.parameters.put(Users.REALM_PARAMETER, "example.com");
        x = server.start("PLAIN", session(""), context);
        assertEquals(Fixture.AUTH_FAILED, Fixture.reply(respond(x, "\0alice\0secret")));
    }
}
