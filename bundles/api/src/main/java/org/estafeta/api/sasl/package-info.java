/**
 * SASL mechanisms advertised in EHLO and used by AUTH.
 */
@Export
@Version("1.0.0")
package org.estafeta.api.sasl;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
