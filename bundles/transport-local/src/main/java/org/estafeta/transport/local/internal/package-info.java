/**
 * The {@code local} and {@code virtual} transports, Postfix's local(8) and virtual(8): alias and {@code .forward}
 * expansion, {@code :include:}, {@code |command} and {@code /file} targets, mbox and Maildir delivery with the
 * recipient's ownership. Not exported.
 */
package org.estafeta.transport.local.internal;
