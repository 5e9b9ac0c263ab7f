/** The unix: lookup-table type (Postfix's passwd.byname and group.byname). Nothing is exported. */
package org.estafeta.table.unix;
