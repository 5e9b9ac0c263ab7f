package org.estafeta.tables.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.tables.UnsupportedTableTypeException;
import org.estafeta.testing.FakeSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TableRegistryTest {
    private FakeSnapshot.Source source;
    private TableRegistry registry;

    /** A table type whose tables answer "name=key" for keys starting with "k", and count opens and closes. */
    static final class FakeFactory implements LookupTableFactory {
        final String answerPrefix;
        final AtomicInteger opens = new AtomicInteger();
        final AtomicInteger closes = new AtomicInteger();
        final List<PluginContext> contexts = new ArrayList<>();
        volatile RuntimeException failLookup;
        volatile boolean failOpen;

        FakeFactory(String answerPrefix) {
            this.answerPrefix = answerPrefix;
        }

        @Override
        public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
            if (failOpen) {
                throw new TableOpenException(spec + ": no such file");
            }
            opens.incrementAndGet();
            contexts.add(context);
            return new LookupTable() {
                @Override
                public LookupResult lookup(String key) {
                    if (failLookup != null) {
                        throw failLookup;
                    }
                    return key.startsWith("k") ? LookupResult.found(answerPrefix + spec.name() + "=" + key)
                            : LookupResult.notFound();
                }

                @Override
                public void close() {
                    closes.incrementAndGet();
                }
            };
        }
    }

    private static Map<String, Object> props(String type, long id, int ranking) {
        return Map.of(LookupTableFactory.TYPE, type, "service.id", id, "service.ranking", ranking);
    }

    @BeforeEach
    void start() {
        source = new FakeSnapshot.Source(new FakeSnapshot(Map.of("json_table_limit", "10")));
        registry = new TableRegistry();
        registry.setConfig(source);
        registry.activate();
    }

    @AfterEach
    void stop() {
        registry.deactivate();
    }

    @Test
    void absentTypeFailsClearly() {
        var e = assertThrows(UnsupportedTableTypeException.class, () -> registry.open("json:/etc/x.json"));
        assertEquals("unsupported dictionary type: json: no installed bundle registers estafeta.table.type=json",
                e.getMessage());
        assertEquals("json", e.type());
        assertInstanceOf(TableOpenException.class, e);
    }

    @Test
    void malformedSpecIsAnOpenError() {
        var e = assertThrows(TableOpenException.class, () -> registry.open("/etc/x.json"));
        assertTrue(e.getMessage().contains("type:name"), e.getMessage());
    }

    @Test
    void typeAppearsThenOpensAndSharesOneTable() throws Exception {
        assertThrows(UnsupportedTableTypeException.class, () -> registry.open("json:/t"));
        var json = new FakeFactory("");
        registry.addFactory(json, props("json", 10, 0));
        assertEquals(java.util.Set.of("json", "pipemap", "proxy", "unionmap"), registry.types());
        try (LookupTable a = registry.open("json:/t"); LookupTable b = registry.open(" json:/t ")) {
            assertEquals(LookupResult.found("/t=k1"), a.lookup("k1"));
            assertEquals(LookupResult.notFound(), b.lookup("x"));
        }
        assertEquals(1, json.opens.get(), "one shared table per spec");
        assertEquals(0, json.closes.get(), "cached tables stay open while the factory is present");
        assertEquals(1, registry.cachedTables());
        assertEquals(java.util.Optional.of("10"), json.contexts.get(0).parameter("json_table_limit"));
        assertEquals("tables", json.contexts.get(0).logger().getName());
    }

    @Test
    void typeDisappearsClosesAndForgets() throws Exception {
        var json = new FakeFactory("");
        registry.addFactory(json, props("json", 10, 0));
        registry.open("json:/t").close();
        registry.removeFactory(json, props("json", 10, 0));
        assertEquals(1, json.closes.get());
        assertEquals(0, registry.cachedTables());
        assertThrows(UnsupportedTableTypeException.class, () -> registry.open("json:/t"));
        // and it comes back: a fresh table is opened
        registry.addFactory(json, props("json", 11, 0));
        try (LookupTable t = registry.open("json:/t")) {
            assertEquals(LookupResult.found("/t=k"), t.lookup("k"));
        }
        assertEquals(2, json.opens.get());
    }

    @Test
    void inFlightUserKeepsItsHandleButNotTheGoneFactoryAndMovesToTheNextOne() throws Exception {
        var json = new FakeFactory("");
        registry.addFactory(json, props("json", 10, 0));
        LookupTable inFlight = registry.open("json:/t");
        registry.removeFactory(json, props("json", 10, 0));
        assertEquals(0, json.closes.get(), "not closed under a user");
        // the plugin is gone: its table no longer answers (mail that needs it waits: issue 6), temporarily
        LookupResult gone = inFlight.lookup("k2");
        assertInstanceOf(LookupResult.TemporaryFailure.class, gone);
        assertTrue(((LookupResult.TemporaryFailure) gone).reason().contains("dictionary type json went away"), gone.toString());
        // a new version of the plugin arrives: the same handle answers through it
        var json2 = new FakeFactory("");
        registry.addFactory(json2, props("json", 12, 0));
        assertEquals(LookupResult.found("/t=k2"), inFlight.lookup("k2"));
        assertEquals(1, json.closes.get(), "the gone factory's table is closed once nobody holds it");
        assertEquals(1, json2.opens.get());
        inFlight.close();
        inFlight.close(); // idempotent
        assertEquals(0, json2.closes.get(), "the current factory's table stays shared in the cache");
        assertInstanceOf(LookupResult.TemporaryFailure.class, inFlight.lookup("k2"));
    }

    @Test
    void reloadRetiresTablesAndNewOpensSeeNewParameters() throws Exception {
        var json = new FakeFactory("");
        registry.addFactory(json, props("json", 10, 0));
        LookupTable old = registry.open("json:/t");
        source.publish(new FakeSnapshot(Map.of("json_table_limit", "20"), List.of(), 2));
        try (LookupTable fresh = registry.open("json:/t")) {
            assertEquals(2, json.opens.get());
            assertEquals(java.util.Optional.of("20"), json.contexts.get(1).parameter("json_table_limit"));
            assertEquals(LookupResult.found("/t=k"), old.lookup("k"));
        }
        assertEquals(0, json.closes.get());
        old.close();
        assertEquals(1, json.closes.get(), "the old table closes when its last user is done");
    }

    @Test
    void higherRankingFactoryWinsAndLosingItFallsBack() throws Exception {
        var low = new FakeFactory("low");
        var high = new FakeFactory("high");
        registry.addFactory(low, props("json", 10, 0));
        registry.addFactory(high, props("json", 11, 5));
        try (LookupTable t = registry.open("json:/t")) {
            assertEquals(LookupResult.found("high/t=k"), t.lookup("k"));
        }
        registry.removeFactory(high, props("json", 11, 5));
        assertEquals(1, high.closes.get());
        try (LookupTable t = registry.open("json:/t")) {
            assertEquals(LookupResult.found("low/t=k"), t.lookup("k"));
        }
    }

    @Test
    void pluginExceptionsBecomeTemporaryFailures() throws Exception {
        var json = new FakeFactory("");
        registry.addFactory(json, props("json", 10, 0));
        try (LookupTable t = registry.open("json:/t")) {
            json.failLookup = new IllegalStateException("boom");
            var r = assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("k"));
            assertTrue(r.reason().contains("boom"), r.reason());
        }
    }

    @Test
    void failedOpenIsNotCachedAndIsRetried() throws Exception {
        var json = new FakeFactory("");
        registry.addFactory(json, props("json", 10, 0));
        json.failOpen = true;
        var e = assertThrows(TableOpenException.class, () -> registry.open("json:/t"));
        assertFalse(e instanceof UnsupportedTableTypeException);
        assertEquals(0, registry.cachedTables());
        json.failOpen = false;
        try (LookupTable t = registry.open("json:/t")) {
            assertEquals(LookupResult.found("/t=k"), t.lookup("k"));
        }
    }

    @Test
    void factoryWithSeveralTypes() throws Exception {
        var multi = new FakeFactory("");
        registry.addFactory(multi, Map.of(LookupTableFactory.TYPE, new String[] {"json", "jsonl"}, "service.id", 3L));
        assertEquals(java.util.Set.of("json", "jsonl", "pipemap", "proxy", "unionmap"), registry.types());
        registry.removeFactory(multi, Map.of());
        assertEquals(TableRegistry.BUILT_IN, registry.types());
    }

    @Test
    void problemsFollowTheRegistry() {
        var snap = new FakeSnapshot(Map.of("transport_maps", "json:/etc/transport.json"));
        assertEquals(List.of("main.cf: transport_maps: unsupported dictionary type: json: "
                + "no installed bundle registers estafeta.table.type=json"), registry.problems(snap));
        var json = new FakeFactory("");
        registry.addFactory(json, props("json", 10, 0));
        assertEquals(List.of(), registry.problems(snap));
        registry.removeFactory(json, props("json", 10, 0));
        assertEquals(1, registry.problems(snap).size());
    }
}
