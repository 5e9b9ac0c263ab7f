/**
 * Helpers that the content filters talking to a daemon (clamd, spamd) share: the daemon's address as Postfix writes
 * socket addresses ({@code unix:/path}, {@code inet:host:port}), one blocking connection with a deadline for the
 * whole exchange, and Postfix time values. Not exported: each filter bundle embeds the classes it uses (bnd's
 * {@code -conditionalpackage}), so a filter plugin still depends on nothing but the api bundle at run time.
 */
package org.estafeta.filter.support;
