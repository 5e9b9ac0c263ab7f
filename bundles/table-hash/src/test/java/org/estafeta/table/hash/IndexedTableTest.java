package org.estafeta.table.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.BufferedWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableSpec;
import org.estafeta.table.hash.internal.IndexedTableFactory;
import org.estafeta.testing.FakePluginContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The table the gateway opens: hot reload, rebuilds under concurrent lookups, big tables in a small heap. */
class IndexedTableTest {
    @TempDir
    Path dir;

    static int postmap(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = PostmapCommand.run("postmap", List.of(args), "hash", new ByteArrayInputStream(new byte[0]),
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err), Clock.systemUTC(),
                (k, t) -> 1);
        assertEquals(0, exit, err.toString());
        return exit;
    }

    @Test
    void aRebuiltIndexIsPickedUpWithoutReopening() throws Exception {
        Path src = dir.resolve("transport");
        Files.writeString(src, "univ.es smtp:[smtp.univ.es]\n");
        postmap(src.toString());
        FakePluginContext context = new FakePluginContext();
        LookupTable t = new IndexedTableFactory().open(new TableSpec("hash", src.toString()), context);
        assertEquals(LookupResult.found("smtp:[smtp.univ.es]"), t.lookup("UNIV.ES"));
        Files.writeString(src, "univ.es local:\nfund-univ.es smtp:[smtp.fund-univ.es]\n");
        postmap(src.toString());
        assertEquals(LookupResult.found("smtp:[smtp.univ.es]"), t.lookup("univ.es"), "checked once a second only");
        context.millis += 1000;
        assertEquals(LookupResult.found("local:"), t.lookup("univ.es"));
        assertEquals(LookupResult.found("smtp:[smtp.fund-univ.es]"), t.lookup("fund-univ.es"));
        // an index removed: a temporary failure naming the file, never "not found"; back when rebuilt
        Files.delete(dir.resolve("transport.db"));
        context.millis += 1000;
        assertEquals(LookupResult.temporaryFailure("hash:" + src + ": open database " + src
                + ".db: No such file or directory"), t.lookup("univ.es"));
        postmap(src.toString());
        context.millis += 1000;
        assertEquals(LookupResult.found("local:"), t.lookup("univ.es"));
    }

    @Test
    void everyIndexedTypeUsesItsSuffix() throws Exception {
        Path src = dir.resolve("virtual");
        Files.writeString(src, "gerente@fund-univ.es rgarcia\n");
        for (String type : IndexedTypes.TYPES) {
            postmap(type + ":" + src);
            assertTrue(Files.exists(Path.of(src + IndexedTypes.suffix(type))), type);
            LookupTable t = new IndexedTableFactory().open(new TableSpec(type, src.toString()), new FakePluginContext());
            assertEquals(LookupResult.found("rgarcia"), t.lookup("Gerente@Fund-Univ.ES"), type);
        }
        assertEquals(List.of(".db", ".db", ".cdb", ".lmdb"), IndexedTypes.TYPES.stream().map(IndexedTypes::suffix)
                .toList());
    }

    @Test
    void aSourceNewerThanItsIndexIsWarnedAbout() throws Exception {
        Path src = dir.resolve("access");
        Files.writeString(src, "univ.es OK\n");
        postmap(src.toString());
        long now = System.currentTimeMillis();
        Files.setLastModifiedTime(Path.of(src + ".db"), FileTime.fromMillis(now - 3_600_000));
        Files.setLastModifiedTime(src, FileTime.fromMillis(now - 1_800_000));
        FakePluginContext context = new FakePluginContext();
        context.millis = now;
        new IndexedTableFactory().open(new TableSpec("hash", src.toString()), context);
        assertEquals(List.of("database " + src + ".db is older than source file " + src), context.warnings);
    }

    @Test
    void lookupsDuringRebuildsNeverSeeAPartialIndex() throws Exception {
        Path src = dir.resolve("big");
        int keys = 2000;
        writeVersion(src, keys, 0);
        postmap(src.toString());
        AtomicLong millis = new AtomicLong();
        Clock everyLookupChecks = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.ofEpochMilli(millis.addAndGet(1000));
            }
        };
        LookupTable t = IndexedTable.open(new TableSpec("hash", src.toString()), everyLookupChecks, w -> {
        });
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
        AtomicLong lookups = new AtomicLong();
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            int seed = r;
            Thread th = new Thread(() -> {
                int i = seed;
                while (!done.get()) {
                    i = (i * 31 + 7) % keys;
                    LookupResult res = t.lookup("key" + i);
                    lookups.incrementAndGet();
                    if (!(res instanceof LookupResult.Found f) || !f.value().matches("v\\d+ of key" + i)) {
                        wrong.add("key" + i + ": " + res);
                    }
                }
            });
            th.start();
            readers.add(th);
        }
        for (int version = 1; version <= 15; version++) {
            writeVersion(src, keys, version);
            postmap(src.toString());
        }
        done.set(true);
        for (Thread th : readers) {
            th.join();
        }
        assertEquals(List.of(), List.copyOf(wrong).subList(0, Math.min(5, wrong.size())));
        assertTrue(lookups.get() > 1000, "lookups " + lookups);
        assertEquals(LookupResult.found("v15 of key7"), t.lookup("key7"));
    }

    private static void writeVersion(Path src, int keys, int version) throws Exception {
        try (BufferedWriter w = Files.newBufferedWriter(src)) {
            for (int i = 0; i < keys; i++) {
                w.write("key" + i + " v" + version + " of key" + i + "\n");
            }
        }
    }

    @Test
    void twoHundredThousandEntriesBuildAndAnswerInASmallHeap() throws Exception {
        // the pom runs this class with -Xmx40m; the table's text alone is larger than a quarter of that
        assertTrue(Runtime.getRuntime().maxMemory() <= 64L << 20, "heap " + Runtime.getRuntime().maxMemory());
        Path src = dir.resolve("huge");
        int n = 200_000;
        try (BufferedWriter w = Files.newBufferedWriter(src)) {
            for (int i = 0; i < n; i++) {
                w.write("user" + i + "@domain" + (i % 997) + ".example.com   smtp:[relay" + i
                        + ".example.net]:25 with a longer value to make the file big\n");
            }
        }
        assertTrue(Files.size(src) > 20L << 20, "source " + Files.size(src));
        postmap(src.toString());
        LookupTable t = new IndexedTableFactory().open(new TableSpec("hash", src.toString()), new FakePluginContext());
        for (int i = 0; i < n; i += 997) {
            assertEquals(LookupResult.found("smtp:[relay" + i + ".example.net]:25 with a longer value to make the file"
                    + " big"), t.lookup("USER" + i + "@domain" + (i % 997) + ".example.com"));
        }
        assertEquals(LookupResult.notFound(), t.lookup("user" + n + "@domain0.example.com"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, PostmapCommand.run("postmap", List.of("-q", "user199999@domain" + (199_999 % 997)
                + ".example.com", src.toString()), "hash", new ByteArrayInputStream(new byte[0]),
                new PrintStream(out), System.err, Clock.systemUTC(), (k, tb) -> 1));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("smtp:[relay199999.example.net]"));
    }
}
