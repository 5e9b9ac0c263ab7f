/**
 * Delivery transports, named by the master.cf command column and by transport table results ({@code smtp:[host]:port}).
 */
@Export
@Version("1.1.0")
package org.estafeta.api.transport;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
