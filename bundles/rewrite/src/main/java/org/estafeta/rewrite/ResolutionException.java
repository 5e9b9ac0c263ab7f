package org.estafeta.rewrite;

/** A recipient cannot be resolved now (a table lookup failed temporarily); the message says why, for the log. */
public final class ResolutionException extends Exception {
    private static final long serialVersionUID = 1L;

    public ResolutionException(String message) {
        super(message);
    }
}
