package org.estafeta.table.simple;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Postmap;
import org.junit.jupiter.api.Test;

/** environ: on its own, and beside Debian's {@code postmap -q KEY environ:x} run with the same environment. */
class EnvironTableTest {
    static final Map<String, String> ENV = new LinkedHashMap<>();

    static {
        ENV.put("lowvar", "low value");
        ENV.put("UPPER", "upper value");
        ENV.put("mixed_Case", "mixed");
        ENV.put("empty", "");
        ENV.put("spaced", " a b ");
        ENV.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    }

    static final List<String> KEYS = List.of("lowvar", "LOWVAR", "LowVar", "UPPER", "upper", "mixed_Case",
            "mixed_case", "empty", "spaced", "PATH", "path", "nope", "");

    @Test
    void looksUpFoldedKeysInTheEnvironment() throws Exception {
        LookupTable t = new EnvironTableFactory(ENV).open(TableSpec.parse("environ:whatever"), new FakePluginContext());
        assertEquals(LookupResult.found("low value"), t.lookup("lowvar"));
        assertEquals(LookupResult.found("low value"), t.lookup("LOWVAR"));
        assertEquals(LookupResult.notFound(), t.lookup("UPPER"), "folded to upper, which is not set");
        assertEquals(LookupResult.found(""), t.lookup("empty"));
        assertEquals(LookupResult.notFound(), t.lookup("nope"));
    }

    @Test
    void theProcessEnvironmentIsTheDefault() throws Exception {
        LookupTable t = new EnvironTableFactory().open(TableSpec.parse("environ:x"), new FakePluginContext());
        String home = System.getenv("home"); // normally unset: upper-case names cannot be found
        assertEquals(home == null ? LookupResult.notFound() : LookupResult.found(home), t.lookup("HOME"));
    }

    @Test
    void anEmptyNameIsRefusedInPostfixWords() {
        var e = assertThrows(TableOpenException.class,
                () -> new EnvironTableFactory(ENV).open(new TableSpec("environ", ""), new FakePluginContext()));
        assertEquals("open dictionary: expecting \"type:name\" form instead of \"environ:\"", e.getMessage());
    }

    @Test
    void answersAsPostmapWithTheSameEnvironment() throws Exception {
        Postmap.require();
        LookupTable t = new EnvironTableFactory(ENV).open(TableSpec.parse("environ:x"), new FakePluginContext());
        List<String> mismatches = new ArrayList<>();
        int found = 0;
        for (String key : KEYS) {
            String want = postmap(key, "environ:x");
            LookupResult expected = want == null ? LookupResult.notFound() : LookupResult.found(want);
            if (!expected.equals(t.lookup(key))) {
                mismatches.add("key \"" + key + "\": postmap " + expected + ", estafeta " + t.lookup(key));
            }
            found += want == null ? 0 : 1;
        }
        assertEquals(List.of(), mismatches);
        assertTrue(found >= 5 && found < KEYS.size(), "found " + found);
    }

    /** postmap -q KEY TABLE with exactly ENV as its environment: the value, or null when not found. */
    static String postmap(String key, String table) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Postmap.POSTMAP, "-q", key, table);
        pb.environment().clear();
        pb.environment().putAll(ENV);
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("postmap did not finish");
        }
        String stdout = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() == 0) {
            return stdout.substring(0, stdout.length() - 1);
        }
        if (p.exitValue() == 1 && err.length == 0) {
            return null;
        }
        throw new AssertionError("postmap -q " + key + " " + table + ": exit " + p.exitValue() + ": "
                + new String(err, StandardCharsets.UTF_8));
    }
}
