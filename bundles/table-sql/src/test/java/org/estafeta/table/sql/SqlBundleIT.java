package org.estafeta.table.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.apache.felix.framework.FrameworkFactory;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Peers;
import org.estafeta.testing.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;

/**
 * The packaged bundle in a real Felix with SCR, wired as the gateway wires it (the api and slf4j from the system
 * bundle): it resolves with nothing but those, registers the three table types, and the embedded drivers work
 * from inside it: sqlite unpacks and loads its native library through the bundle's class loader and answers,
 * the PostgreSQL and MariaDB drivers load and report an unreachable server as a temporary failure.
 */
class SqlBundleIT {
    @TempDir
    Path dir;

    @Test
    void theBundleResolvesRegistersTheTypesAndItsDriversWork() throws Exception {
        Peers.require(SqliteTableTest.SQLITE3, "sqlite3");
        Path db = dir.resolve("t.sqlite");
        ProcessRunner.run(List.of(SqliteTableTest.SQLITE3, db.toString()), Map.of(),
                "CREATE TABLE t (k TEXT, v TEXT); INSERT INTO t VALUES ('a@example.com', 'b@example.com');", 30).ok();
        Path cf = Files.writeString(dir.resolve("t.cf"), "dbpath = " + db + "\nquery = SELECT v FROM t WHERE k='%s'\n");
        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        Path pg = Files.writeString(dir.resolve("pg.cf"), "hosts = 127.0.0.1:" + dead
                + "\ndbname = x\nquery = SELECT '%s'\n");
        Path my = Files.writeString(dir.resolve("my.cf"), "hosts = 127.0.0.1:" + dead
                + "\ndbname = x\nquery = SELECT '%s'\n");

        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, dir.resolve("felix-cache").toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "org.estafeta.api.plugin;version=1.0.0,"
                + "org.estafeta.api.table;version=1.0.0,org.slf4j;version=2.0.17");
        Framework felix = new FrameworkFactory().newFramework(config);
        felix.start();
        try {
            BundleContext context = felix.getBundleContext();
            List<Bundle> bundles = new ArrayList<>();
            for (String name : List.of("org.osgi.service.component-", "org.osgi.util.function-",
                    "org.osgi.util.promise-", "org.apache.felix.scr-")) {
                bundles.add(context.installBundle(new File(onClassPath(name)).toURI().toString()));
            }
            Bundle sql = context.installBundle(Path.of(System.getProperty("estafeta.bundle")).toUri().toString());
            bundles.add(sql);
            for (Bundle b : bundles) {
                b.start();
            }
            assertEquals(Bundle.ACTIVE, sql.getState());

            TreeSet<String> types = new TreeSet<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (types.size() < 3 && System.currentTimeMillis() < deadline) {
                types.clear();
                for (ServiceReference<LookupTableFactory> r : context.getServiceReferences(LookupTableFactory.class,
                        null)) {
                    types.add((String) r.getProperty(LookupTableFactory.TYPE));
                }
                Thread.sleep(50);
            }
            StringBuilder state = new StringBuilder();
            for (Bundle b : context.getBundles()) {
                state.append(b.getSymbolicName()).append(' ').append(b.getState()).append(' ')
                        .append(b.getRegisteredServices() == null ? 0 : b.getRegisteredServices().length).append('\n');
            }
            assertEquals("[mysql, pgsql, sqlite]", types.toString(), state.toString());

            FakePluginContext plugin = new FakePluginContext();
            try (LookupTable t = factory(context, "sqlite").open(TableSpec.parse("sqlite:" + cf), plugin)) {
                assertEquals(LookupResult.found("b@example.com"), t.lookup("A@Example.com"));
                assertEquals(LookupResult.notFound(), t.lookup("x'; drop table t; --"));
            }
            try (LookupTable t = factory(context, "pgsql").open(TableSpec.parse("pgsql:" + pg), plugin)) {
                assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("a@example.com"));
            }
            try (LookupTable t = factory(context, "mysql").open(TableSpec.parse("mysql:" + my), plugin)) {
                assertInstanceOf(LookupResult.TemporaryFailure.class, t.lookup("a@example.com"));
            }
            assertTrue(plugin.warnings.stream().anyMatch(w -> w.startsWith("pgsql:" + pg + ": connect to pgsql server")),
                    plugin.warnings.toString());
            assertTrue(plugin.warnings.stream().anyMatch(w -> w.startsWith("mysql:" + my + ": connect to mysql server")),
                    plugin.warnings.toString());
            assertTrue(plugin.warnings.stream().noneMatch(w -> w.contains("ClassNotFound")
                    || w.contains("NoClassDefFound")), plugin.warnings.toString());
        } finally {
            felix.stop();
            felix.waitForStop(20_000);
        }
    }

    private static LookupTableFactory factory(BundleContext context, String type) throws Exception {
        ServiceReference<LookupTableFactory> ref = context.getServiceReferences(LookupTableFactory.class,
                "(" + LookupTableFactory.TYPE + "=" + type + ")").iterator().next();
        LookupTableFactory f = context.getService(ref);
        assertNotNull(f, type);
        return f;
    }

    private static String onClassPath(String jarPrefix) {
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (Path.of(entry).getFileName().toString().startsWith(jarPrefix)) {
                return entry;
            }
        }
        throw new AssertionError(jarPrefix + "*.jar is not on the test class path");
    }
}
