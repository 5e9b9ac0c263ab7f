package org.estafeta.sample.stampfilter;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.jar.Attributes;
import java.util.jar.Manifest;

/**
 * A bundle's {@code Bundle-SymbolicName} (without its directives) and {@code Bundle-Version}, as the maillog names a
 * filter's bundle ({@code org.estafeta.plugin-stamp-filter 1.0.0}).
 *
 * <p>Read without the OSGi framework API (the plugin compiles against the Estafeta api only): the manifest sits at the
 * root of the content a class was loaded from, which in Felix is the {@code bundle:} URL of the bundle revision that
 * defined the class, so an updated bundle reads its new manifest. <b>Threading:</b> an immutable value.
 *
 * @param symbolicName {@code Bundle-SymbolicName}, directives such as {@code ;singleton:=true} removed
 * @param version {@code Bundle-Version}, {@code 0.0.0} when absent (OSGi's default)
 */
record BundleIdentity(String symbolicName, String version) {
    private static final String MANIFEST = "META-INF/MANIFEST.MF";

    /**
     * The identity of the bundle (or jar, or class directory) {@code type} was loaded from. Throws
     * {@link IllegalStateException} when its manifest cannot be found or has no {@code Bundle-SymbolicName}.
     */
    static BundleIdentity of(Class<?> type) {
        String resource = type.getName().replace('.', '/') + ".class";
        URL self = type.getResource("/" + resource);
        if (self == null) {
            throw new IllegalStateException("cannot locate " + resource);
        }
        String s = self.toString();
        if (!s.endsWith(resource)) {
            throw new IllegalStateException("unexpected class location: " + s);
        }
        try {
            // same scheme as the context: its handler (Felix's bundle: handler) opens the manifest
            URL manifest = new URL(self, s.substring(0, s.length() - resource.length()) + MANIFEST);
            try (InputStream in = manifest.openStream()) {
                return read(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundle manifest next to " + s + ": " + e.getMessage(), e);
        }
    }

    /** Parses a manifest. Throws {@link IllegalStateException} when it has no {@code Bundle-SymbolicName}. */
    static BundleIdentity read(InputStream manifest) throws IOException {
        Attributes main = new Manifest(manifest).getMainAttributes();
        String bsn = main.getValue("Bundle-SymbolicName");
        if (bsn == null || bsn.isBlank()) {
            throw new IllegalStateException("the manifest has no Bundle-SymbolicName");
        }
        int semicolon = bsn.indexOf(';');
        String version = main.getValue("Bundle-Version");
        return new BundleIdentity((semicolon < 0 ? bsn : bsn.substring(0, semicolon)).strip(),
                version == null || version.isBlank() ? "0.0.0" : version.strip());
    }

    /** {@code SYMBOLIC-NAME VERSION}. */
    @Override
    public String toString() {
        return symbolicName + " " + version;
    }
}
