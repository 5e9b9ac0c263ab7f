/**
 * master.cf's {@code spawn} command, Postfix's spawn(8): for each connection to an {@code inet} or {@code unix}
 * entry, runs the entry's {@code argv=} program as its {@code user=} with standard input, output and error
 * connected to the client, under the entry's time limit and process limit. Not exported.
 */
package org.estafeta.spawn.internal;
