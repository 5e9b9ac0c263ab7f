/**
 * The {@code error}, {@code retry} and {@code discard} transports, Postfix's error(8) and discard(8): they deliver
 * nothing and report every recipient with the next hop as the reason. Not exported.
 */
package org.estafeta.transport.error.internal;
