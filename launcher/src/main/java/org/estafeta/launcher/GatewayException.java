package org.estafeta.launcher;

/** The gateway cannot start (or a command cannot run); the message says why, in Postfix's words where it can. */
public class GatewayException extends Exception {
    private static final long serialVersionUID = 1L;

    public GatewayException(String message) {
        super(message);
    }

    public GatewayException(String message, Throwable cause) {
        super(message, cause);
    }
}
