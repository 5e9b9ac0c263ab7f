package org.estafeta.tables.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.table.cidr.CidrTableFactory;
import org.estafeta.table.regexp.RegexpTableFactory;
import org.estafeta.table.simple.InlineTableFactory;
import org.estafeta.table.simple.StaticTableFactory;
import org.estafeta.testing.FakeSnapshot;
import org.estafeta.testing.Postmap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * unionmap: and pipemap: over real inline:, static:, regexp: and cidr: tables, through the registry and through
 * Debian's {@code postmap -q KEY TABLE}: the same value or "not found" for every key, the same refusals.
 */
class CompositePostmapDifferentialTest {
    @TempDir
    Path dir;
    private TableRegistry registry;

    static final List<String> KEYS = List.of("a", "A", "b", "c", "x", "y", "1", "2", "S", "user@example.com",
            "User@Example.COM", "example.com", "192.0.2.7", "192.0.2.200", "2001:db8::1", "10.1.2.3", "nope", "");

    @BeforeEach
    void start() throws Exception {
        registry = new TableRegistry();
        registry.setConfig(new FakeSnapshot.Source(new FakeSnapshot(Map.of())));
        registry.activate();
        long id = 1;
        for (var e : Map.of("inline", new InlineTableFactory(), "static", new StaticTableFactory(),
                "regexp", new RegexpTableFactory(), "cidr", new CidrTableFactory()).entrySet()) {
            registry.addFactory(e.getValue(), Map.of(LookupTableFactory.TYPE, e.getKey(), "service.id", id++));
        }
        Files.writeString(dir.resolve("re"), """
                /^user@/          local
                /example\\.com$/  domain
                /^([a-c])$/       letter-$1
                """);
        Files.writeString(dir.resolve("cidr"), """
                192.0.2.0/25   net-low
                2001:db8::/32  net6
                10.0.0.0/8     ten
                """);
    }

    @AfterEach
    void stop() {
        registry.deactivate();
    }

    private List<String> goodTables() {
        String re = "regexp:" + dir.resolve("re");
        String cidr = "cidr:" + dir.resolve("cidr");
        return List.of(
                "unionmap:{inline:{a=1}, inline:{a=2,b=3}}",
                "unionmap:{ inline:{a=1} static:{x y} }",
                "unionmap:{inline:{{a=x}},inline:{{a=}}}",
                "unionmap:{inline:{{a=}},inline:{{a=x}}}",
                "unionmap:{inline:{{a=}}}",
                "unionmap:{" + re + ", " + cidr + ", inline:{a=A, example.com=ex}}",
                "unionmap:{unionmap:{inline:{a=1},static:2},pipemap:{inline:{a=b},inline:{b=c}}}",
                "pipemap:{inline:{a=b},inline:{b=c}}",
                "pipemap:{inline:{a=x},inline:{b=c}}",
                "pipemap:{inline:{a=b},unionmap:{inline:{b=1},static:2}}",
                "pipemap:{" + re + ", inline:{letter-a=first, local=L, domain=D}}",
                "pipemap:{" + cidr + ", inline:{net-low=OK, ten=REJECT}, static:{final value}}",
                "pipemap:{static:b, " + re + "}",
                "pipemap:{\tstatic:192.0.2.9\n" + cidr + "}");
    }

    static final List<String> BAD_TABLES = List.of("unionmap:x", "unionmap:{}", "unionmap:{ }",
            "unionmap:{inline:{a=1},foo}", "unionmap:{inline:{a=1}}x", "pipemap:{inline:{a=1}",
            "pipemap:{,}", "unionmap:{inline:{a=1},nosuch:x}", "pipemap:{{inline:{a=1}}}", "unionmap:{inline:{}}");

    @Test
    void compositesAnswerAsPostmap() throws Exception {
        Postmap.require();
        List<String> mismatches = new ArrayList<>();
        int found = 0;
        for (String table : goodTables()) {
            try (LookupTable t = registry.open(table)) {
                for (String key : KEYS) {
                    Postmap.Answer want = Postmap.query(key, table);
                    if (want.fatal() != null) {
                        fail(table + ": postmap refused it: " + want.fatal());
                    }
                    LookupResult expected = want.value() == null ? LookupResult.notFound()
                            : LookupResult.found(want.value());
                    LookupResult got = t.lookup(key);
                    if (!expected.equals(got)) {
                        mismatches.add(table + " key \"" + key + "\": postmap " + expected + ", estafeta " + got);
                    }
                    found += want.value() == null ? 0 : 1;
                }
            }
        }
        assertEquals(List.of(), mismatches);
        assertTrue(found >= 40, "found " + found);
    }

    @Test
    void compositesPostfixRefusesAreRefusedWithItsText() throws Exception {
        Postmap.require();
        for (String table : BAD_TABLES) {
            Postmap.Answer want = Postmap.query("a", table);
            assertNotNull(want.fatal(), table + ": postmap accepted it: " + want);
            try (LookupTable t = registry.open(table)) {
                fail(table + ": opened, but postmap says: " + want.fatal());
            } catch (TableOpenException e) {
                // ours may add what to install ("...: no installed bundle registers estafeta.table.type=nosuch")
                assertTrue(e.getMessage().startsWith(want.fatal()) || e.getMessage().endsWith(want.fatal()),
                        table + ": postmap says \"" + want.fatal() + "\", estafeta says \"" + e.getMessage() + "\"");
            }
        }
    }
}
