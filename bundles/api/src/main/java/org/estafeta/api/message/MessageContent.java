package org.estafeta.api.message;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Read-only access to a received message. The gateway keeps the message on disk; the content is read from
 * there each time {@link #openBody()} or {@link #openMessage()} is called, so a plugin never holds a whole
 * message in memory unless it chooses to.
 *
 * <p>Implementations are provided by the gateway and are safe to use from any thread.
 */
public interface MessageContent {
    /** The top-level headers, in order, unfolded. */
    List<Header> headers();

    /** The body after the blank line that ends the headers, as it travels on the wire (CRLF line ends, no dot-stuffing). */
    InputStream openBody() throws IOException;

    /** The whole message, headers and body, as it travels on the wire (CRLF line ends, no dot-stuffing). */
    InputStream openMessage() throws IOException;

    /** Size of {@link #openMessage()} in bytes. */
    long size();

    /** The first header with this name (ignoring case), or {@code null}. */
    default String header(String name) {
        for (Header h : headers()) {
            if (h.is(name)) {
                return h.value();
            }
        }
        return null;
    }
}
