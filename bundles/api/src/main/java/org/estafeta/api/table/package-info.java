/**
 * Lookup tables ({@code type:name} in main.cf, as Postfix's {@code hash:/etc/postfix/transport}). A lookup has three outcomes: found, not found, or a temporary failure; never two.
 */
@Export
@Version("1.0.0")
package org.estafeta.api.table;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
