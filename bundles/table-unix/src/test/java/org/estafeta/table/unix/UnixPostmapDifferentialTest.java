package org.estafeta.table.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Postmap;
import org.junit.jupiter.api.Test;

/**
 * This machine's users and groups through Debian's {@code postmap -q NAME unix:passwd.byname} (and
 * {@code group.byname}) and through this bundle: the same entry for every name in /etc/passwd and /etc/group, the
 * same "not found" for names that are not there, the same fatal text for a table name Postfix does not know.
 */
class UnixPostmapDifferentialTest {

    @Test
    void passwdAnswersAsPostfix() throws Exception {
        compare("passwd.byname", Path.of("/etc/passwd"));
    }

    @Test
    void groupAnswersAsPostfix() throws Exception {
        compare("group.byname", Path.of("/etc/group"));
    }

    @Test
    void anUnknownTableNameIsRefusedAsPostfix() throws Exception {
        Postmap.require();
        Postmap.Answer postfix = Postmap.query("root", "unix:passwd.byuid");
        TableOpenException e = assertThrows(TableOpenException.class,
                () -> new UnixTableFactory().open(TableSpec.parse("unix:passwd.byuid"), new FakePluginContext()));
        assertEquals(postfix.fatal(), e.getMessage());
    }

    private static void compare(String name, Path file) throws Exception {
        Postmap.require();
        LookupTable table = new UnixTableFactory().open(TableSpec.parse("unix:" + name), new FakePluginContext());
        List<String> keys = new ArrayList<>(List.of("nosuchuser-estafeta", "root@localhost", "r"));
        for (String line : Files.readAllLines(file)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                keys.add(line.substring(0, colon));
            }
        }
        for (String key : keys) {
            Postmap.Answer postfix = Postmap.query(key, "unix:" + name);
            LookupResult expected = postfix.value() == null ? LookupResult.notFound()
                    : LookupResult.found(postfix.value());
            assertEquals(expected, table.lookup(key), "unix:" + name + " " + key);
        }
    }
}
