package org.estafeta.tables.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableSpec;
import org.estafeta.table.simple.InlineTableFactory;
import org.estafeta.table.simple.StaticTableFactory;
import org.estafeta.tables.TableNames;
import org.estafeta.tables.UnsupportedTableTypeException;
import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** unionmap:, pipemap: and proxy: in the registry: semantics, failures, sharing and the configuration check. */
class CompositeTablesTest {
    private TableRegistry registry;
    private TableRegistryTest.FakeFactory json;
    private final FlakyFactory flaky = new FlakyFactory();

    /** A table type whose tables fail every lookup for keys starting with "t" and find "v-KEY" for the others. */
    static final class FlakyFactory implements LookupTableFactory {
        @Override
        public LookupTable open(TableSpec spec, PluginContext context) {
            return key -> key.startsWith("t") ? LookupResult.temporaryFailure(spec + ": server down")
                    : LookupResult.found("v-" + key);
        }
    }

    private static Map<String, Object> props(String type, long id) {
        return Map.of(LookupTableFactory.TYPE, type, "service.id", id, "service.ranking", 0);
    }

    @BeforeEach
    void start() {
        registry = new TableRegistry();
        registry.setConfig(new FakeSnapshot.Source(new FakeSnapshot(Map.of())));
        registry.activate();
        json = new TableRegistryTest.FakeFactory("");
        registry.addFactory(json, props("json", 1));
        registry.addFactory(new InlineTableFactory(), props("inline", 2));
        registry.addFactory(new StaticTableFactory(), props("static", 3));
        registry.addFactory(flaky, props("flaky", 4));
    }

    @AfterEach
    void stop() {
        registry.deactivate();
    }

    private LookupResult lookup(String spec, String key) throws Exception {
        try (LookupTable t = registry.open(spec)) {
            return t.lookup(key);
        }
    }

    @Test
    void unionJoinsEveryFoundValueInOrder() throws Exception {
        String u = "unionmap:{inline:{a=1}, inline:{a=2,b=3} static:S}";
        assertEquals(LookupResult.found("1,2,S"), lookup(u, "a"));
        assertEquals(LookupResult.found("3,S"), lookup(u, "b"));
        assertEquals(LookupResult.notFound(), lookup("unionmap:{inline:{a=1},inline:{b=2}}", "z"));
        // empty values leave no trace, and an all-empty union finds nothing (dict_union.c)
        assertEquals(LookupResult.found("x,"), lookup("unionmap:{inline:{{a=x}},inline:{{a=}}}", "a"));
        assertEquals(LookupResult.found("x"), lookup("unionmap:{inline:{{a=}},inline:{{a=x}}}", "a"));
        assertEquals(LookupResult.notFound(), lookup("unionmap:{inline:{{a=}}}", "a"));
    }

    @Test
    void pipeFeedsEachValueToTheNextTable() throws Exception {
        String p = "pipemap:{inline:{a=b, x=y}, inline:{b=c}}";
        assertEquals(LookupResult.found("c"), lookup(p, "a"));
        assertEquals(LookupResult.notFound(), lookup(p, "x"), "the second table does not know y");
        assertEquals(LookupResult.notFound(), lookup(p, "q"));
        assertEquals(LookupResult.found("1,2"),
                lookup("pipemap:{inline:{a=b},unionmap:{inline:{b=1},static:2}}", "a"), "nested as Postfix");
    }

    @Test
    void anInnerTemporaryFailureIsTheCompositesAnswer() throws Exception {
        var union = assertInstanceOf(LookupResult.TemporaryFailure.class,
                lookup("unionmap:{static:S, flaky:db}", "tkey"));
        assertTrue(union.reason().contains("flaky:db: server down"), union.reason());
        assertEquals(LookupResult.found("S,v-ok"), lookup("unionmap:{static:S, flaky:db}", "ok"));
        assertInstanceOf(LookupResult.TemporaryFailure.class, lookup("pipemap:{static:tee, flaky:db}", "a"));
        assertEquals(LookupResult.found("v-ok"), lookup("pipemap:{static:ok, flaky:db}", "a"));
        // a failure after a "not found" in a pipe is never reached
        assertEquals(LookupResult.notFound(), lookup("pipemap:{inline:{a=b}, flaky:db}", "tz"));
    }

    @Test
    void aMissingInnerTypeIsTheRegistrysOwnError() throws Exception {
        var e = assertThrows(UnsupportedTableTypeException.class,
                () -> registry.open("unionmap:{json:/t, ldap:/etc/ldap.cf}"));
        assertEquals("ldap", e.type());
        assertEquals("unsupported dictionary type: ldap: no installed bundle registers estafeta.table.type=ldap",
                e.getMessage());
        e = assertThrows(UnsupportedTableTypeException.class, () -> registry.open("pipemap:{{inline:{a=1}}}"));
        assertEquals("{inline", e.type(), "braces around an element are part of its type, as in Postfix");
    }

    @Test
    void innerHandlesAreReleasedWhenTheCompositeFailsOrCloses() throws Exception {
        assertThrows(UnsupportedTableTypeException.class, () -> registry.open("unionmap:{json:/t, nosuch:x}"));
        LookupTable u = registry.open("unionmap:{json:/t, json:/u}");
        assertEquals(LookupResult.found("/t=k,/u=k"), u.lookup("k"));
        registry.removeFactory(json, props("json", 1));
        assertEquals(0, json.closes.get(), "in use by the union");
        // the inner tables' plugin is gone: the union answers a temporary failure, not a partial or stale answer
        assertInstanceOf(LookupResult.TemporaryFailure.class, u.lookup("k"));
        u.close();
        assertEquals(2, json.closes.get(), "both inner tables closed with the last handle");
    }

    @Test
    void syntaxErrorsUsePostfixWords() {
        for (String bad : List.of("x", "{}", "{ }", "{inline:{a=1},foo}", "{inline:{a=1}}x", "{inline:{a=1}")) {
            var e = assertThrows(org.estafeta.api.table.TableOpenException.class,
                    () -> registry.open("unionmap:" + bad), bad);
            assertEquals("bad syntax: \"unionmap:" + bad + "\"; need \"unionmap:{type:name...}\"", e.getMessage());
            e = assertThrows(org.estafeta.api.table.TableOpenException.class, () -> registry.open("pipemap:" + bad));
            assertEquals("bad syntax: \"pipemap:" + bad + "\"; need \"pipemap:{type:name...}\"", e.getMessage());
        }
    }

    @Test
    void proxyOpensTheTableDirectlyAndSharesIt() throws Exception {
        try (LookupTable a = registry.open("proxy:json:/t"); LookupTable b = registry.open("json:/t");
                LookupTable c = registry.open("proxy:proxy:json:/t")) {
            assertEquals(LookupResult.found("/t=k"), a.lookup("k"));
            assertEquals(LookupResult.found("/t=k"), c.lookup("k"));
            assertEquals(LookupResult.notFound(), b.lookup("x"));
        }
        assertEquals(1, json.opens.get(), "proxy:json:/t and json:/t are one shared table");
        assertEquals(LookupResult.found("1,S"), lookup("proxy:unionmap:{proxy:inline:{a=1}, static:S}", "a"));
        var e = assertThrows(UnsupportedTableTypeException.class, () -> registry.open("proxy:mysql:/etc/m.cf"));
        assertEquals("mysql", e.type(), "the missing type is the proxied one, never 'proxy'");
        var bad = assertThrows(org.estafeta.api.table.TableOpenException.class, () -> registry.open("proxy:x"));
        assertTrue(bad.getMessage().contains("type:name"), bad.getMessage());
    }

    @Test
    void configurationCheckLooksThroughProxyAndIntoComposites() {
        var snap = new FakeSnapshot(Map.of(
                "virtual_alias_maps", "proxy:json:/v, unionmap:{inline:{a=b}, proxy:ldap:/l.cf,"
                        + " pipemap:{static:x, mysql:/m.cf}}",
                "smtpd_recipient_restrictions", "check_recipient_access proxy:pgsql:/p.cf, permit",
                "transport_maps", "unionmap:{broken"));
        assertEquals(List.of(
                "main.cf: smtpd_recipient_restrictions: unsupported dictionary type: pgsql: no installed bundle registers estafeta.table.type=pgsql",
                "main.cf: virtual_alias_maps: unsupported dictionary type: ldap: no installed bundle registers estafeta.table.type=ldap",
                "main.cf: virtual_alias_maps: unsupported dictionary type: mysql: no installed bundle registers estafeta.table.type=mysql"),
                registry.problems(snap).stream().sorted().toList());
    }

    @Test
    void patternFlagsFollowPostfix() {
        assertTrue(TableNames.isPattern("regexp:/x"));
        assertTrue(TableNames.isPattern("proxy:cidr:/x"));
        assertTrue(TableNames.isPattern("socketmap:inet:127.0.0.1:9:name"));
        assertFalse(TableNames.isPattern("hash:/x"));
        assertFalse(TableNames.isPattern("proxy:unix:passwd.byname"));
        assertTrue(TableNames.isPattern("unionmap:{pcre:/a, hash:/b}"), "the first table decides");
        assertFalse(TableNames.isPattern("pipemap:{hash:/b, pcre:/a}"));
        assertFalse(TableNames.isPattern("unionmap:{bad"));
        assertEquals("hash:/x", TableNames.unproxied(" proxy:proxy:hash:/x"));
    }

    @Test
    void tableListsSplitAsPostfix() {
        assertEquals(Optional.of(List.of("inline:{a=1, b=2}", "static:{x y}", "pipemap:{a:b,c:d}")),
                TableList.parse("{ inline:{a=1, b=2},static:{x y}\tpipemap:{a:b,c:d} }"));
        assertEquals(Optional.empty(), TableList.parse("{a:b}}"));
        assertEquals(Optional.empty(), TableList.parse("{,}"));
    }
}
