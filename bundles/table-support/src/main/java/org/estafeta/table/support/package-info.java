/**
 * Helpers that the table bundles share: Postfix's logical-line reading, its list tokenizer ({@link
 * org.estafeta.table.support.PostfixTokens}) and a file that is read again when it changes. Not exported: each table bundle embeds the classes it uses (bnd's {@code -conditionalpackage}),
 * so a table plugin still depends on nothing but the api bundle at run time.
 */
package org.estafeta.table.support;
