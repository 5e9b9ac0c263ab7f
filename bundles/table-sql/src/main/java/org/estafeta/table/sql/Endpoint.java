package org.estafeta.table.sql;

/**
 * One entry of {@code hosts}: a TCP server ({@code inet:host:port}, {@code host:port}, {@code host}) or a
 * UNIX-domain socket ({@code unix:/path}); {@code text} is the entry as written, for log lines.
 */
record Endpoint(String text, boolean unix, String host, int port) {
}
