/**
 * Indexed-file lookup tables ({@code hash:}, {@code btree:}, {@code cdb:}, {@code lmdb:}): the on-disk index
 * ({@link org.estafeta.table.hash.IndexFile}, {@link org.estafeta.table.hash.IndexWriter}, described in
 * {@code docs/table-index-format.md}), the postmap/postalias source syntax, and the {@code postmap}/{@code postalias}
 * commands, shared by the table bundle and the launcher's {@code estafeta postmap}.
 */
@Export
@Version("1.0.0")
package org.estafeta.table.hash;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
