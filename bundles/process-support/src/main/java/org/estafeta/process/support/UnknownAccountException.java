package org.estafeta.process.support;

/**
 * A user or group name that the system's account databases (NSS, through {@code getent}) do not know. Callers turn
 * it into their own daemon's words (pipe(8): {@code unknown username: NAME}; spawn(8): {@code unknown user name:
 * NAME}).
 */
public final class UnknownAccountException extends Exception {
    private static final long serialVersionUID = 1L;

    private final boolean group;
    private final String name;

    UnknownAccountException(boolean group, String name) {
        super((group ? "unknown group: " : "unknown user: ") + name);
        this.group = group;
        this.name = name;
    }

    /** Whether the group name was unknown (else the user name). */
    public boolean group() {
        return group;
    }

    /** The name as it was looked up. */
    public String name() {
        return name;
    }
}
