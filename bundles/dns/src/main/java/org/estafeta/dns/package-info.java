/**
 * DNS for the core: asynchronous A, AAAA, MX, PTR and TXT lookups, Postfix's forward-confirmed client name and
 * DNSBL/RHSBL queries, through the {@link org.estafeta.dns.DnsResolver} service that the {@code dns} bundle
 * registers. Every answer is one of three outcomes (found, not found, temporary failure); none is null and none
 * is an exception. Core bundles use this package; plugins do not see it.
 */
@Export
@Version("1.0.0")
package org.estafeta.dns;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
