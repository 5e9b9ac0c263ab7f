/**
 * Local submission: the {@link org.estafeta.pickup.Sendmail} command (run from the launcher's class path, so it
 * uses only the JDK and the queue package), the submission protocol and the maildrop file layout that the pickup
 * daemon (in this bundle's internal package) reads. docs/local-submission.md.
 */
@Version("1.0.0")
package org.estafeta.pickup;

import org.osgi.annotation.versioning.Version;
