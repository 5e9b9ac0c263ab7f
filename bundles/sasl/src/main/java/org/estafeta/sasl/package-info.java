/**
 * The {@code estafeta saslpasswd} command ({@link org.estafeta.sasl.SaslPasswd}), which keeps the built-in SASL
 * back end's password file. The back end itself (the {@code SaslServer} and its mechanisms) is private to the
 * bundle and reached through the service registry only.
 */
@Export
@Version("1.0.0")
package org.estafeta.sasl;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
