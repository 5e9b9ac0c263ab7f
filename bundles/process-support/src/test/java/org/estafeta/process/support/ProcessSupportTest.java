package org.estafeta.process.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Against the real account databases (getent) and the real setpriv of this machine. */
class ProcessSupportTest {
    @Test
    void looksUpUsersAndGroups() throws Exception {
        UnixAccount root = UnixAccount.lookup("root", null);
        assertEquals(new UnixAccount("root", 0, 0), root);
        UnixAccount nobody = UnixAccount.lookup("nobody", null);
        assertEquals(65534, nobody.uid());
        assertEquals(1, UnixAccount.lookup("nobody", "daemon").gid(), "the named group's ID wins");
        UnknownAccountException u = assertThrows(UnknownAccountException.class,
                () -> UnixAccount.lookup("no-such-user-here", null));
        assertFalse(u.group());
        assertEquals("no-such-user-here", u.name());
        UnknownAccountException g = assertThrows(UnknownAccountException.class,
                () -> UnixAccount.lookup("nobody", "no-such-group-here"));
        assertTrue(g.group());
        assertEquals("no-such-group-here", g.name());
    }

    @Test
    void setprivOnlyWhenRoot() throws Exception {
        int self = UnixAccount.currentUid();
        List<String> argv = List.of("/bin/echo", "x");
        if (self == 0) {
            assertEquals(List.of(UnixAccount.setpriv().toString(), "--reuid=65534", "--regid=1", "--init-groups", "--",
                    "/bin/echo", "x"), SetprivCommand.commandLine(new UnixAccount("nobody", 65534, 1), argv));
            assertTrue(UnixAccount.setpriv().toString().equals("/usr/bin/setpriv"), "the first one installed");
        } else {
            assertEquals(argv, SetprivCommand.commandLine(self, 1, argv), "no switch needed");
            CannotSwitchUserException e = assertThrows(CannotSwitchUserException.class,
                    () -> SetprivCommand.commandLine(self + 1, 1, argv));
            assertEquals("the gateway does not run as root", e.getMessage());
            assertFalse(e.setprivMissing());
        }
    }

    @Test
    void searchPathAndEnvironment() {
        assertEquals("/usr/bin/env", CommandEnvironment.resolve("env"));
        assertEquals("./env", CommandEnvironment.resolve("./env"));
        assertEquals("no-such-program-here", CommandEnvironment.resolve("no-such-program-here"));
        assertEquals(List.of("TZ", "A = b c", "MAIL_CONFIG", "x"), CommandEnvironment.splitList("TZ, { A = b c } MAIL_CONFIG,,x"));
        Map<String, String> env = CommandEnvironment.environment("{ A = b c } NO_SUCH_VARIABLE_HERE");
        assertEquals(Map.of("A", "b c"), env);
    }
}
