package org.estafeta.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.estafeta.config.internal.ConfigSourceComponent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigSourceTest {
    @TempDir
    Path dir;

    @Test
    void reloadSwapsAndABrokenFileKeepsTheOldSnapshot() throws Exception {
        TestDirs.write(dir, "mail_name = One\n", "smtp inet n - n - - smtpd\n");
        ConfigSource source = new ConfigSourceComponent(dir, dir.resolve("var"));
        ConfigSnapshot first = source.current();
        assertEquals(1, first.generation());
        assertEquals("One", first.value("mail_name"));
        List<ConfigSnapshot> seen = new CopyOnWriteArrayList<>();
        Consumer<ConfigSnapshot> listener = seen::add;
        source.addListener(listener);

        Files.writeString(dir.resolve("main.cf"), "mail_name = Two\n");
        ConfigSnapshot second = source.reload();
        assertSame(second, source.current());
        assertEquals(2, second.generation());
        assertEquals("Two", second.value("mail_name"));
        assertEquals("One", first.value("mail_name")); // an old snapshot never changes
        assertEquals(List.of(second), seen);

        // a bad line
        Files.writeString(dir.resolve("main.cf"), "mail_name = Three\nbroken line\n");
        ConfigException bad = assertThrows(ConfigException.class, source::reload);
        assertEquals(dir.resolve("main.cf").toAbsolutePath().normalize().toString(), bad.file());
        assertEquals(2, bad.line());
        assertSame(second, source.current());

        // an expansion loop
        Files.writeString(dir.resolve("main.cf"), "mail_name = Four\nmyorigin = $mydomain\nmydomain = $myorigin\n");
        ConfigException loop = assertThrows(ConfigException.class, source::reload);
        assertEquals(2, loop.line());
        assertSame(second, source.current());

        // a broken master.cf
        Files.writeString(dir.resolve("main.cf"), "mail_name = Five\n");
        Files.writeString(dir.resolve("master.cf"), "smtp inet n - n - - smtpd\nbad\n");
        ConfigException master = assertThrows(ConfigException.class, source::reload);
        assertEquals(2, master.line());
        assertSame(second, source.current());
        assertEquals(List.of(second), seen);

        Files.writeString(dir.resolve("master.cf"), "smtp inet n - n - - smtpd\n");
        source.removeListener(listener);
        ConfigSnapshot third = source.reload();
        assertEquals(3, third.generation());
        assertEquals("Five", third.value("mail_name"));
        assertEquals(List.of(second), seen);
    }

    @Test
    void aBrokenFileAtStartIsAnError() throws Exception {
        TestDirs.write(dir, "oops\n", "");
        ConfigException e = assertThrows(ConfigException.class, () -> new ConfigSourceComponent(dir, dir));
        assertEquals(1, e.line());
    }
}
