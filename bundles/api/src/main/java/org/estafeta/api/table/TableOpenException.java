package org.estafeta.api.table;

/**
 * A table could not be opened: the file is missing or malformed, the server refused the connection. The
 * message names the table and the cause (for example {@code json:/etc/x.json: line 3: expected ','}); the
 * gateway logs it and treats every lookup in that table as a temporary failure until the table opens.
 */
public class TableOpenException extends Exception {
    private static final long serialVersionUID = 1L;

    public TableOpenException(String message) {
        super(message);
    }

    public TableOpenException(String message, Throwable cause) {
        super(message, cause);
    }
}
