package org.estafeta.table.socketmap;

import java.io.IOException;

/**
 * A socketmap exchange failed; {@link #kind} says how, with Postfix's netstring_strerror() texts as messages.
 * Only {@link Kind#EOF} (the server hung up or the connection broke) is worth one more try on a new connection.
 */
final class NetstringException extends IOException {
    private static final long serialVersionUID = 1L;

    enum Kind {
        EOF("unexpected disconnect"),
        TIME("time limit exceeded"),
        FORMAT("input format error"),
        SIZE("input exceeds size limit");

        final String text;

        Kind(String text) {
            this.text = text;
        }
    }

    final Kind kind;

    NetstringException(Kind kind) {
        super(kind.text, null);
        this.kind = kind;
    }

    NetstringException(Kind kind, Throwable cause) {
        super(kind.text, cause);
        this.kind = kind;
    }
}
