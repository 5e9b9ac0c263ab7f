package org.estafeta.process.support;

/**
 * A command cannot run as the account asked for: the gateway runs as root but setpriv is missing, or it runs as
 * another user and so cannot switch at all. The message is the reason alone ({@code util-linux's setpriv is not
 * installed}, {@code the gateway does not run as root}); callers put it in their own words.
 */
public final class CannotSwitchUserException extends Exception {
    private static final long serialVersionUID = 1L;

    private final boolean setprivMissing;

    CannotSwitchUserException(boolean setprivMissing, String reason) {
        super(reason);
        this.setprivMissing = setprivMissing;
    }

    /** True when the gateway runs as root and only setpriv is missing; false when it does not run as root. */
    public boolean setprivMissing() {
        return setprivMissing;
    }
}
