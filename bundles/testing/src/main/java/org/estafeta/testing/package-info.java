/**
 * Fakes for the bundles' unit tests: {@link org.estafeta.testing.FakeSnapshot}, a
 * {@link org.estafeta.config.ConfigSnapshot} over a map of explicit values, with its
 * {@link org.estafeta.testing.FakeSnapshot.Source} that a test drives, and
 * {@link org.estafeta.testing.RecordingLogger}, an slf4j logger that keeps its lines. Modules use this package in
 * test scope only. Interop and integration tests read real main.cf and master.cf files with the real
 * {@link org.estafeta.config.ConfigLoader} instead.
 */
@Export
@Version("1.0.0")
package org.estafeta.testing;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
