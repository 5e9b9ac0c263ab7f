package org.estafeta.table.regexp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.estafeta.testing.Peers;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Differential test: every key of the corpus is looked up by Debian's {@code postmap -q KEY type:FILE} and by
 * this bundle; the answers (value, or not found) must be the same. Postfix must also load each table without a
 * warning, since this bundle refuses tables Postfix would only warn about.
 */
class PostmapDifferentialTest {
    @ParameterizedTest
    @CsvSource({"regexp, tutorial/header_checks", "regexp, tutorial/body_checks", "regexp, corpus/addresses.regexp",
            "pcre, corpus/addresses.pcre", "pcre, tutorial/header_checks", "pcre, tutorial/body_checks"})
    void sameAnswersAsPostmap(String type, String resource) throws Exception {
        Path postmap = Peers.require("/usr/sbin/postmap", "postfix");
        Path table = Path.of("src/test/resources", resource).toAbsolutePath();
        Dialect dialect = type.equals("pcre") ? Dialect.PCRE : Dialect.REGEXP;
        RuleSet rules = RuleSet.parse(dialect, table.toString(), Files.readString(table));
        List<String> keys = Files.readAllLines(Path.of("src/test/resources/corpus/keys.txt"));
        List<String> mismatches = new ArrayList<>();
        int found = 0;
        for (String key : keys) {
            Process p = new ProcessBuilder(postmap.toString(), "-q", key, type + ":" + table).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            if (err.contains("unsupported dictionary type")) {
                Peers.missing("postmap lacks " + type + ": (Debian package postfix-pcre)");
            }
            assertEquals("", err, "postmap warned about " + table + " for key " + key);
            String expected = p.exitValue() == 0 ? out.stripTrailing() : null;
            String actual = rules.lookup(key).orElse(null);
            if (actual != null) {
                found++;
            }
            if (!java.util.Objects.equals(expected, actual)) {
                mismatches.add(key + ": postmap " + expected + ", estafeta " + actual);
            }
        }
        assertEquals(List.of(), mismatches);
        if (found == 0) {
            throw new AssertionError("no key of the corpus matched " + resource + ": the corpus tests nothing");
        }
    }
}
