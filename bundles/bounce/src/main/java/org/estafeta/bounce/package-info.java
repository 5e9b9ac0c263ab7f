/**
 * Postfix's bounce daemon as a service: the queue manager hands it the fate of recipients, it writes RFC 3464
 * reports and submits them through cleanup. Core bundles use this package; plugins never see it.
 */
@Export
@Version("1.0.0")
package org.estafeta.bounce;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
