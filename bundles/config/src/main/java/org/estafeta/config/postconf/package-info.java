/**
 * {@code estafeta postconf}: Postfix's postconf command over Estafeta's configuration, usable without OSGi.
 */
@Export
@Version("1.0.0")
package org.estafeta.config.postconf;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
