package org.estafeta.table.cidr;

import org.estafeta.testing.FakePluginContext;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CidrTableTest {
    @TempDir
    Path dir;

    final List<String> warnings = new ArrayList<>();

    CidrRules rules(String text) {
        return CidrRules.parse("/t.cidr", text, warnings::add);
    }

    @Test
    void firstMatchInFileOrderIpv4AndIpv6() {
        CidrRules r = rules("192.0.2.0/24 net\n192.0.2.1 host\n2001:db8::/32 six\n[2001:db8::1] host6\n");
        assertEquals("net", r.lookup("192.0.2.1"));
        assertEquals("six", r.lookup("2001:db8::1"));
        assertNull(r.lookup("192.0.3.1"));
        assertNull(r.lookup("2001:db9::"));
        assertNull(r.lookup("mail.example.com"));
        assertEquals(List.of(), warnings);
    }

    @Test
    void negationAndFamilies() {
        CidrRules r = rules("!10.0.0.0/8 not-ten\n::/0 any6\n");
        assertNull(r.lookup("10.9.9.9"));
        assertEquals("not-ten", r.lookup("11.0.0.1"));
        assertEquals("any6", r.lookup("10::1"), "an IPv4 rule never matches an IPv6 key");
    }

    @Test
    void ifEndifBlocksNestAndSkip() {
        CidrRules r = rules("if 10.0.0.0/8\nif !10.1.0.0/16\n10.2.0.0/16 ten-two\nendif\n10.1.2.0/24 ten-one-two\n"
                + "ENDIF\n0.0.0.0/0 default\n");
        assertEquals("ten-two", r.lookup("10.2.3.4"));
        assertEquals("ten-one-two", r.lookup("10.1.2.3"));
        assertEquals("default", r.lookup("10.1.3.3"));
        assertEquals("default", r.lookup("11.2.3.4"));
        assertEquals(List.of(), warnings);
    }

    @Test
    void malformedRulesAreSkippedWithPostfixsWarningNamingFileAndLine() {
        CidrRules r = rules("1.2.3.4/24 x\n\n# c\n1.2.3.0/24\nendif\nif 1.2.3.0/24\n");
        assertEquals(List.of(
                "cidr map /t.cidr, line 1: non-null host address bits in \"1.2.3.4/24\", perhaps you should use"
                        + " \"1.2.3.0/24\" instead: skipping this rule",
                "cidr map /t.cidr, line 4: no lookup result: skipping this rule",
                "cidr map /t.cidr, line 5: ENDIF without IF: skipping this rule",
                "cidr map /t.cidr, line 6: IF has no matching ENDIF"), warnings);
        assertNull(r.lookup("1.2.3.4"));
    }

    @Test
    void continuationLinesJoinAndLineNumbersAreTheFirstLine() {
        CidrRules r = rules("# head\n10.0.0.0/8\n  ten\n  again\n11.0.0.0/8/1 x\n");
        assertEquals("ten  again", r.lookup("10.0.0.1"));
        assertEquals(List.of("cidr map /t.cidr, line 5: bad mask value in \"11.0.0.0/8/1\": skipping this rule"),
                warnings);
    }

    @Test
    void inetTextIsStrictAndFormatsAsGlibc() {
        assertNull(InetText.parse4("1.2.3"));
        assertNull(InetText.parse4("01.2.3.4"));
        assertNull(InetText.parse4("256.1.1.1"));
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 1, 2, 3, 4},
                InetText.parse6("::ffff:1.2.3.4"));
        assertNull(InetText.parse6("1::2::3"));
        assertNull(InetText.parse6("12345::"));
        assertEquals("2001:db8::", InetText.format(InetText.parse6("2001:0db8:0:0:0:0:0:0")));
        assertEquals("::ffff:1.2.3.4", InetText.format(InetText.parse6("::ffff:102:304")));
        assertEquals("1:0:2::3", InetText.format(InetText.parse6("1:0:2:0:0:0:0:3")));
    }

    @Test
    void rereadsAChangedFileAndAnUnreadableOneIsATemporaryFailure() throws Exception {
        FakePluginContext context = new FakePluginContext();
        Path f = dir.resolve("t.cidr");
        Files.writeString(f, "10.0.0.0/8 one\n");
        LookupTable t = new CidrTableFactory().open(TableSpec.parse("cidr:" + f), context);
        assertEquals(LookupResult.found("one"), t.lookup("10.0.0.1"));
        Files.writeString(f, "10.0.0.0/8 two\n");
        Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 5000));
        assertEquals(LookupResult.found("one"), t.lookup("10.0.0.1"), "checked at most once a second");
        context.millis += 1500;
        assertEquals(LookupResult.found("two"), t.lookup("10.0.0.1"));
        Files.delete(f);
        context.millis += 1500;
        LookupResult gone = t.lookup("10.0.0.1");
        assertInstanceOf(LookupResult.TemporaryFailure.class, gone);
        assertTrue(((LookupResult.TemporaryFailure) gone).reason().contains("No such file or directory"), gone.toString());

        TableOpenException e = assertThrows(TableOpenException.class,
                () -> new CidrTableFactory().open(TableSpec.parse("cidr:" + f), context));
        assertEquals("cidr:" + f + ": open " + f + ": No such file or directory", e.getMessage());
    }
}
