/**
 * The durable mail queue under {@code queue_directory}: Postfix's queues, long queue IDs, the queue-file format
 * (docs/queue-file-format.md) and start-up recovery. Core bundles use this package; plugins never see it.
 */
@Export
@Version("1.3.0")
package org.estafeta.queue;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
