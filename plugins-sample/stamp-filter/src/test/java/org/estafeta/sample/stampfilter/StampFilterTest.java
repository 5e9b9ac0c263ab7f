package org.estafeta.sample.stampfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.message.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StampFilterTest {
    @TempDir
    Path dir;

    @Test
    void addsOneStampNamingTheBundle() {
        StampFilter f = new StampFilter(new BundleIdentity("org.example.stamp", "1.2.3"));
        FilterVerdict v = f.open(null).endOfMessage(null, null);
        FilterVerdict.Accept a = assertInstanceOf(FilterVerdict.Accept.class, v);
        assertEquals(List.of(new Header("X-Stamp", "org.example.stamp 1.2.3")), a.addHeaders());
    }

    @Test
    void readsNameWithoutDirectivesAndVersion() throws IOException {
        BundleIdentity id = BundleIdentity.read(manifest(
                "Bundle-SymbolicName: org.example.stamp;singleton:=true", "Bundle-Version: 1.1.0"));
        assertEquals(new BundleIdentity("org.example.stamp", "1.1.0"), id);
        assertEquals("org.example.stamp 1.1.0", id.toString());
        assertEquals("0.0.0", BundleIdentity.read(manifest("Bundle-SymbolicName: x")).version());
        assertThrows(IllegalStateException.class, () -> BundleIdentity.read(manifest("Bundle-Version: 1.0.0")));
    }

    @Test
    void readsTheManifestOfTheJarAClassCameFrom() throws Exception {
        // a jar holding a copy of this class and a manifest: the class loaded from it finds that jar's manifest
        Path jar = dir.resolve("stamp.jar");
        Manifest m = new Manifest(manifest("Bundle-SymbolicName: org.example.jarred", "Bundle-Version: 2.0.0"));
        String entry = Marker.class.getName().replace('.', '/') + ".class";
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            j.putNextEntry(new JarEntry(entry));
            try (var in = Marker.class.getResourceAsStream("/" + entry)) {
                in.transferTo(j);
            }
        }
        try (var loader = new java.net.URLClassLoader(new java.net.URL[] {jar.toUri().toURL()}, null)) {
            Class<?> c = loader.loadClass(Marker.class.getName());
            assertEquals(new BundleIdentity("org.example.jarred", "2.0.0"), BundleIdentity.of(c));
        }
    }

    /** A class without dependencies, to be loaded from a jar of the test's making. */
    public static final class Marker {
    }

    private static ByteArrayInputStream manifest(String... lines) {
        return new ByteArrayInputStream(("Manifest-Version: 1.0\r\n" + String.join("\r\n", lines) + "\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
    }
}
