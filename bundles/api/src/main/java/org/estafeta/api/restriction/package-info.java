/**
 * Access restrictions usable in the {@code smtpd_*_restrictions} lists of main.cf.
 */
@Export
@Version("1.1.0")
package org.estafeta.api.restriction;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
