package org.estafeta.table.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.ProcessRunner;

/**
 * The data, table configurations and keys the differential tests give both Postfix and Estafeta: a virtual alias
 * table, a transport table and a domain list, as the tutorial's "external database" tables use them.
 */
final class SqlCorpus {
    private SqlCorpus() {
    }

    /** Keys: found, not found, with and without {@code @}, the %u/%d rules, several rows, quoting attacks. */
    static final List<String> KEYS = List.of("info@example.com", "INFO@Example.COM", "multi@example.com",
            "nobody@example.com", "example.com", "@example.com", "user", "a'b@example.com", "a'b",
            "x'; drop table aliases; --", "x' OR '1'='1", "x\\' OR 1=1 -- ", "back\\slash", "quote\"d",
            "empty@example.com", "null@example.com", "u@sub.example.org", "U@Sub.Example.Org",
            "u@deep.sub.example.org", "u@a..example.com", "u@", "@", "a@b@example.com", "", "u@example.net",
            "percent%s@example.com");

    /**
     * The schema and rows; {@code backslash} is how the dialect writes one backslash inside a string literal
     * ({@code \\} for MariaDB, {@code \} for standard SQL).
     */
    static String schema(String backslash) {
        return """
                CREATE TABLE aliases (address VARCHAR(200), goto VARCHAR(200));
                INSERT INTO aliases VALUES ('info@example.com', 'alice@example.com');
                INSERT INTO aliases VALUES ('multi@example.com', 'a@example.com');
                INSERT INTO aliases VALUES ('multi@example.com', 'b@example.com');
                INSERT INTO aliases VALUES ('a''b@example.com', 'quoted@example.com');
                INSERT INTO aliases VALUES ('a''b', 'quoted-bare');
                INSERT INTO aliases VALUES ('back%1$sslash', 'backslash-found');
                INSERT INTO aliases VALUES ('quote"d', 'double-quote-found');
                INSERT INTO aliases VALUES ('empty@example.com', '');
                INSERT INTO aliases VALUES ('null@example.com', NULL);
                INSERT INTO aliases VALUES ('example.com', 'domain-value');
                INSERT INTO aliases VALUES ('@example.com', 'catchall@example.com');
                INSERT INTO aliases VALUES ('user', 'bare-user');
                INSERT INTO aliases VALUES ('u@sub.example.org', 'deep@example.org');
                INSERT INTO aliases VALUES ('percent%%s@example.com', 'percent-found');
                CREATE TABLE transport (domain VARCHAR(200), transport VARCHAR(200));
                INSERT INTO transport VALUES ('example.com', 'smtp:[relay.example.com]');
                INSERT INTO transport VALUES ('sub.example.org', 'relay:[10.0.0.1]');
                INSERT INTO transport VALUES ('example.net', 'local');
                CREATE TABLE domains (domain VARCHAR(200));
                INSERT INTO domains VALUES ('example.com');
                INSERT INTO domains VALUES ('sub.example.org');
                """.formatted(backslash);
    }

    /**
     * The table configurations (name to text after {@code connection}, the lines that say where the database
     * is); {@code domainTable} is a {@code type:name} table of the domains, for {@code domain = TABLE}.
     */
    static Map<String, String> configs(Path dir, String domainTable) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("domains", "query = SELECT domain FROM domains WHERE domain='%s'\n");
        m.put("aliases", "query = SELECT goto FROM aliases WHERE address='%s'\n");
        m.put("userdomain", "query = SELECT goto FROM aliases WHERE address='%u@%d'\n");
        m.put("transport", "query = SELECT transport FROM transport WHERE domain='%d'\nresult_format = %s (via %U)\n");
        m.put("parts", "query = SELECT '%3|%2|%1'\n");
        m.put("restricted", "# only these domains\nquery = SELECT goto FROM aliases WHERE address='%s'\n"
                + "domain = !sub.example.org, Example.COM\n  example.org\n");
        m.put("domaintable", "query = SELECT goto FROM aliases WHERE address='%s'\ndomain = " + domainTable + "\n");
        m.put("domainfile", "query = SELECT goto FROM aliases WHERE address='%s'\ndomain = " + dir.resolve("domains.txt")
                + "\n");
        m.put("legacy", "table = aliases\nselect_field = goto\nwhere_field = address\n"
                + "additional_conditions = AND goto <> 'bare-user'\n");
        m.put("limit", "query = SELECT goto FROM aliases WHERE address='%s'\nexpansion_limit = 1\n");
        m.put("valueparts", "query = SELECT goto FROM aliases WHERE address='%s'\nresult_format = %u at %d\n");
        m.put("twocolumns", "query = SELECT address, goto FROM aliases WHERE address='%s'\n");
        m.put("percent", "query = SELECT goto FROM aliases WHERE address='%s' AND '%%' = '%%'\n");
        return m;
    }

    /**
     * A sqlite: table of the domains in {@code dir}, for the {@code domain} parameter of the other types' tables
     * (Postfix's pgsql client answers wrongly when its {@code domain} is a pgsql: table: both share one result
     * buffer). Returns its {@code type:name}.
     */
    static String sqliteDomains(Path dir) throws Exception {
        Path db = dir.resolve("domains.sqlite");
        ProcessRunner.run(List.of(SqliteTableTest.SQLITE3, db.toString()), Map.of(),
                "CREATE TABLE domains (domain VARCHAR(200));\nINSERT INTO domains VALUES ('example.com');\n"
                        + "INSERT INTO domains VALUES ('sub.example.org');\n", 30).ok();
        Path cf = PostfixPostmap.writeConfig(dir.resolve("domains-sqlite.cf"), "dbpath = " + db
                + "\nquery = SELECT domain FROM domains WHERE domain='%s'\n");
        return "sqlite:" + cf;
    }

    /** Writes every configuration, each starting with {@code connection}; returns name to path. */
    static Map<String, Path> write(Path dir, String connection, String domainTable) throws Exception {
        Files.writeString(dir.resolve("domains.txt"), "# domains served\nexample.com\n\nsub.example.org, !x\n");
        Map<String, Path> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : configs(dir, domainTable).entrySet()) {
            out.put(e.getKey(), PostfixPostmap.writeConfig(dir.resolve(e.getKey() + ".cf"), connection + e.getValue()));
        }
        return out;
    }

    /**
     * Asks Postfix and the factory every key in every configuration and asserts the same answers; returns how
     * many were found, for a sanity check by the caller.
     */
    static int compare(PostfixPostmap postmap, LookupTableFactory factory, String type, Map<String, Path> configs)
            throws Exception {
        List<String> mismatches = new ArrayList<>();
        int found = 0;
        int failed = 0;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (Map.Entry<String, Path> c : configs.entrySet()) {
                String table = type + ":" + c.getValue();
                List<Future<PostfixPostmap.Answer>> answers = new ArrayList<>();
                for (String key : KEYS) {
                    answers.add(pool.submit(() -> postmap.query(key, table)));
                }
                FakePluginContext context = new FakePluginContext();
                try (LookupTable t = factory.open(TableSpec.parse(table), context)) {
                    for (int i = 0; i < KEYS.size(); i++) {
                        String key = KEYS.get(i);
                        LookupResult want = answers.get(i).get().result();
                        LookupResult got = t.lookup(key);
                        if (!PostfixPostmap.agree(want, got)) {
                            mismatches.add(c.getKey() + " key \"" + key + "\": postmap " + want + ", estafeta " + got);
                        }
                        found += got instanceof LookupResult.Found ? 1 : 0;
                        failed += got instanceof LookupResult.TemporaryFailure ? 1 : 0;
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(List.of(), mismatches);
        assertEquals(1, failed, "only the expansion limit fails (multi@example.com)");
        assertTrue(found > 40, "found " + found);
        return found;
    }
}
