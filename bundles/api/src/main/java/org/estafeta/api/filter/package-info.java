/**
 * Content filters: an ordered list in main.cf inspects each message before it is queued, either event by event as a
 * milter ({@link org.estafeta.api.filter.SessionFilter}, since 1.2) or once it is complete
 * ({@link org.estafeta.api.filter.ContentFilter}). header_checks and body_checks run through the same chain.
 */
@Export
@Version("1.2.0")
package org.estafeta.api.filter;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
