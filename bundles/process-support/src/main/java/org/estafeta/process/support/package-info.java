/**
 * Helpers that the bundles running external commands (the pipe transport, spawn, local's command deliveries) share:
 * Unix accounts looked up with {@code getent}, the {@code setpriv} command line that drops root's privileges to
 * them (Java cannot setuid), and the search path and {@code export_environment} of a command. Not exported: each
 * bundle embeds the classes it uses (bnd's {@code -conditionalpackage}), so it still depends on nothing new at run
 * time.
 */
package org.estafeta.process.support;
