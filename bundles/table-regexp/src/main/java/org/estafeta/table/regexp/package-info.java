/** The regexp: and pcre: lookup-table types (Postfix's regexp_table(5) and pcre_table(5)). Nothing is exported. */
package org.estafeta.table.regexp;
