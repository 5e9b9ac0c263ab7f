package org.estafeta.process.support;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line that runs a command as another user: when the gateway runs as root, through util-linux's
 * {@code setpriv --reuid=UID --regid=GID --init-groups --} (Java cannot setuid); when it already runs as that user,
 * the command as it is. Stateless; thread-safe; reads {@code /proc/self} and looks for setpriv, nothing more.
 */
public final class SetprivCommand {
    private SetprivCommand() {
    }

    /**
     * {@code command} (the program first, its path already resolved) as it must be started to run as {@code uid} and
     * {@code gid}.
     *
     * @throws CannotSwitchUserException when the gateway runs as root without setpriv, or as a user other than
     *         {@code uid}
     * @throws IOException when this process's user ID cannot be read
     */
    public static List<String> commandLine(int uid, int gid, List<String> command)
            throws CannotSwitchUserException, IOException {
        List<String> cmd = new ArrayList<>();
        int self = UnixAccount.currentUid();
        if (self == 0) {
            Path setpriv = UnixAccount.setpriv();
            if (setpriv == null) {
                throw new CannotSwitchUserException(true, "util-linux's setpriv is not installed");
            }
            cmd.addAll(List.of(setpriv.toString(), "--reuid=" + uid, "--regid=" + gid, "--init-groups", "--"));
        } else if (self != uid) {
            throw new CannotSwitchUserException(false, "the gateway does not run as root");
        }
        cmd.addAll(command);
        return cmd;
    }

    /** {@link #commandLine(int, int, List)} for an account. */
    public static List<String> commandLine(UnixAccount account, List<String> command)
            throws CannotSwitchUserException, IOException {
        return commandLine(account.uid(), account.gid(), command);
    }
}
