/**
 * trivial-rewrite's resolve half: which transport and next hop each recipient goes to. The queue manager asks
 * {@link org.estafeta.rewrite.AddressResolver}; core bundles use this package, plugins never see it.
 */
@Export
@Version("1.0.0")
package org.estafeta.rewrite;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
