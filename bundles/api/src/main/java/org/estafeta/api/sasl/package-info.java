/**
 * SASL for smtpd's AUTH: back ends ({@link org.estafeta.api.sasl.SaslServer}, named by smtpd_sasl_type) and the
 * mechanisms of the built-in back end ({@link org.estafeta.api.sasl.SaslMechanism}).
 */
@Export
@Version("1.1.0")
package org.estafeta.api.sasl;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
