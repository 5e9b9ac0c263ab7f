/**
 * How a received message reaches the queue: smtpd (and later local submission) hands the envelope and the
 * message bytes to the {@link org.estafeta.cleanup.Cleanup} service, which writes the queue file and answers with
 * a queue ID only once the file is on disk. Core bundles use this package; plugins never see it.
 */
@Export
@Version("1.5.0")
package org.estafeta.cleanup;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
