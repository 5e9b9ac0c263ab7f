/** The in-memory Cleanup for unit tests of the bundles that hand mail to cleanup. */
@Export
@Version("1.0.0")
package org.estafeta.testing.cleanup;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
