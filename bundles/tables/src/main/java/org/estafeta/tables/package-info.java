/**
 * The lookup-table registry of the core: opens the {@code type:name} tables that main.cf names through the
 * {@link org.estafeta.api.table.LookupTableFactory} services that bundles register, and tells which table types
 * a configuration needs but no installed bundle provides. Core bundles use this package; plugins provide
 * table types through {@code org.estafeta.api.table} and never see it.
 */
@Export
@Version("1.1.0")
package org.estafeta.tables;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
