/**
 * The {@code pipe} transport, Postfix's pipe(8): runs the command of a master.cf entry once per delivery request,
 * with its argv macros, flags, user and time limit, and maps its exit status as Postfix does. Not exported.
 */
package org.estafeta.transport.pipe.internal;
