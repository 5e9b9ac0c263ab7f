package org.estafeta.transport.pipe.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class PipeAttributesTest {
    private static PipeAttributes parse(String line) throws PipeConfigException {
        return PipeAttributes.parse(List.of(line.split(" ")));
    }

    @Test
    void tutorialLineSplitsAtArgv() throws Exception {
        PipeAttributes a = parse("flags=Rq user=filtro argv=/usr/local/bin/filtro -f ${sender} -- ${recipient}");
        assertTrue(a.has('R') && a.has('q'));
        assertEquals("filtro", a.user());
        assertNull(a.group());
        assertEquals(List.of("/usr/local/bin/filtro", "-f", "${sender}", "--", "${recipient}"), a.command());
        assertEquals("\n", a.eol());
        assertEquals("MAILER-DAEMON", a.nullSender());
        assertEquals(0, a.sizeLimit());
    }

    @Test
    void everyAttributeBeforeArgv() throws Exception {
        PipeAttributes a = parse("FLAGS=BDFORXhqu.> user=nobody:daemon size=1000 eol=\\r\\n directory=/tmp null_sender= "
                + "argv=/bin/cat user=ignored flags=Z");
        assertEquals("BDFORXhqu.>", a.flags());
        assertEquals("nobody", a.user());
        assertEquals("daemon", a.group());
        assertEquals(1000, a.sizeLimit());
        assertEquals("\r\n", a.eol());
        assertEquals("/tmp", a.directory());
        assertEquals("", a.nullSender());
        assertEquals(List.of("/bin/cat", "user=ignored", "flags=Z"), a.command(), "words after argv= are the command's");
    }

    @Test
    void eolEscapesAsPostfixUnescape() {
        assertEquals("\r\n", PipeAttributes.unescape("\\r\\n"));
        assertEquals("\u0001x", PipeAttributes.unescape("\\001x"));
        assertEquals("\t\\q", PipeAttributes.unescape("\\t\\\\\\q"));
    }

    @Test
    void problemsInPostfixWords() {
        assertEquals("unknown flag: Z", assertThrows(PipeConfigException.class,
                () -> parse("flags=RZ user=x argv=/bin/cat")).getMessage());
        assertEquals("unknown attribute name: bogus=1", assertThrows(PipeConfigException.class,
                () -> parse("bogus=1 user=x argv=/bin/cat")).getMessage());
        assertEquals("missing user= command-line attribute", assertThrows(PipeConfigException.class,
                () -> parse("flags=R argv=/bin/cat")).getMessage());
        assertEquals("missing argv= command-line attribute", assertThrows(PipeConfigException.class,
                () -> parse("user=x")).getMessage());
        assertEquals("bad size= value: -5", assertThrows(PipeConfigException.class,
                () -> parse("user=x size=-5 argv=/bin/cat")).getMessage());
        assertThrows(PipeConfigException.class, () -> parse("chroot=/var/empty user=x argv=/bin/cat"));
    }
}
