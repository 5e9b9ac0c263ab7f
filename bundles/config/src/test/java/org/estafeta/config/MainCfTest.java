package org.estafeta.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainCfTest {
    @TempDir
    Path dir;

    private ConfigSnapshot load(String mainCf) throws ConfigException {
        return ConfigLoader.load(TestDirs.write(dir, mainCf, ""), dir.resolve("var"));
    }

    @Test
    void nameValueWithWhitespaceTrimmedAndEmptyValues() throws Exception {
        ConfigSnapshot s = load("mail_name   =   Foo Bar  \t\nmyhostname =\nmydomain=example.org\n");
        assertEquals("Foo Bar", s.raw("mail_name").orElseThrow());
        assertEquals("", s.raw("myhostname").orElseThrow());
        assertTrue(s.isExplicit("myhostname"));
        assertEquals("example.org", s.get("mydomain").orElseThrow());
        assertEquals(List.of("mail_name", "mydomain", "myhostname"), s.explicitNames());
    }

    @Test
    void continuationLinesJoinWithoutNewlineAndSkipCommentsAndBlankLines() throws Exception {
        ConfigSnapshot s = load("# comment\n\nmynetworks = 127.0.0.1\n  # indented comment inside\n\n"
                + "    10.0.0.0/8\n\t192.168.0.0/16\nmail_name = X\n");
        assertEquals("127.0.0.1    10.0.0.0/8\t192.168.0.0/16", s.raw("mynetworks").orElseThrow());
        assertEquals(List.of("127.0.0.1", "10.0.0.0/8", "192.168.0.0/16"), s.list("mynetworks"));
        assertEquals("X", s.raw("mail_name").orElseThrow());
    }

    @Test
    void missingEqualsNamesFileAndFirstLineAsPostfix() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("mail_name = a\nfoo\n  bar\n"));
        assertEquals(dir.resolve("main.cf").toString(), e.file());
        assertEquals(2, e.line());
        assertEquals(dir.resolve("main.cf") + ", line 2: missing '=' after attribute name: \"foo  bar\"",
                e.getMessage());
    }

    @Test
    void missingAttributeName() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("\n\n= value\n"));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().endsWith("line 3: missing attribute name: \"= value\""), e.getMessage());
    }

    @Test
    void leadingWhitespaceAtStartIsSkippedWithWarning() throws Exception {
        ConfigSnapshot s = load("  stray = 1\nmail_name = X\n");
        assertFalse(s.isExplicit("stray"));
        assertTrue(s.warnings().stream().anyMatch(w -> w.line() == 1
                && w.message().equals("logical line must not start with whitespace: \"  stray = 1\"")), s.warnings()::toString);
    }

    @Test
    void laterEntryOverridesEarlierWithWarning() throws Exception {
        ConfigSnapshot s = load("mail_name = A\nmail_name = B\n");
        assertEquals("B", s.value("mail_name"));
        assertTrue(s.warnings().contains(new ConfigWarning(dir.resolve("main.cf").toString(), 2,
                "overriding earlier entry: mail_name=A")), s.warnings()::toString);
    }

    @Test
    void missingMainCfIsAnError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(dir.resolve("nowhere"), dir));
        assertTrue(e.getMessage().contains("main.cf"), e.getMessage());
    }

    @Test
    void typedAccessors() throws Exception {
        ConfigSnapshot s = load("default_process_limit = 7\nmail_name = yes\nmydomain = 3h\n");
        assertEquals(7, s.integer("default_process_limit"));
        assertTrue(s.bool("mail_name"));
        assertEquals(3 * 3600, s.seconds("mydomain"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.integer("mail_name"));
        assertTrue(e.getMessage().contains("mail_name"));
        assertThrows(IllegalArgumentException.class, () -> s.value("no_such_parameter"));
    }
}
