/**
 * Content filters: an ordered list in main.cf inspects each message after it is received and before it is queued.
 */
@Export
@Version("1.1.0")
package org.estafeta.api.filter;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
