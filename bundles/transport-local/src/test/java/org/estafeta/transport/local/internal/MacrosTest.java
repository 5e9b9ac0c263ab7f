package org.estafeta.transport.local.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** Postfix's mac_expand() forms as local(8) uses them (forward_path, mailbox_command, luser_relay). */
class MacrosTest {
    private static final Map<String, String> V = Map.of("user", "ana", "extension", "box", "domain", "example.com");

    @Test
    void namesAndConditionals() {
        assertEquals("ana@example.com", Macros.expand("$user@${domain}", V, true));
        assertEquals("ana(example.com)$", Macros.expand("$(user)($domain)$$", V, true));
        assertEquals("ana+box", Macros.expand("$user${extension?+$extension}", V, true));
        assertEquals("ana", Macros.expand("$user${local?+$local}", V, true));
        assertEquals("ana-none", Macros.expand("$user${local:-none}", V, true));
    }

    @Test
    void postfix30BraceForms() {
        assertEquals("ana+box", Macros.expand("$user${extension?{+$extension}}", V, true));
        assertEquals("ana.plain", Macros.expand("$user${local?{+x}:{.plain}}", V, true));
        assertEquals("ana+x", Macros.expand("$user${user?{+x}:{.plain}}", V, true));
        assertEquals("ana:", Macros.expand("$user${local:{:}}", V, true));
    }

    @Test
    void undefinedNames() {
        assertEquals("ana@", Macros.expand("$user@$home", V, true));
        assertNull(Macros.expand("$home/.forward", V, false), "a forward_path element with an undefined name is skipped");
        assertNull(Macros.expand("${user", V, true));
    }
}
