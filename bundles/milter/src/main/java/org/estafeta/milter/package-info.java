/**
 * A Sendmail milter protocol (version 2 to 6) client with Postfix's semantics, for {@code smtpd_milters} and
 * {@code non_smtpd_milters}: {@link org.estafeta.milter.Milters#open} gives a {@link org.estafeta.milter.MilterSession}
 * per SMTP session (or per locally submitted message) that reports each event to every milter in turn and returns
 * a {@link org.estafeta.milter.MilterVerdict}; the end of the message also returns the milters' requested
 * modifications. Blocking, bounded by the milter timeouts; call it on a worker thread, never on an event loop.
 * See docs/milter.md.
 */
@Export
@Version("1.0.0")
package org.estafeta.milter;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
