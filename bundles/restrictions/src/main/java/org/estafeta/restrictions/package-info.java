/**
 * The SMTP access restrictions engine: evaluates main.cf's {@code smtpd_*_restrictions} lists for the smtpd bundle
 * with Postfix's built-in restrictions, access(5) tables, restriction classes and DNS checks. Core only: plugins add
 * restrictions through {@code org.estafeta.api.restriction}, never through this package.
 */
@Export
@Version("1.0.0")
package org.estafeta.restrictions;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
