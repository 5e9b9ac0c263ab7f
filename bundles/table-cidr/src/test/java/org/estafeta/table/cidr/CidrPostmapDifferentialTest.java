package org.estafeta.table.cidr;

import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Postmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same cidr: file and the same keys through Debian's {@code postmap -q} and through this bundle: the same
 * value or the same "not found" for every key, and the same warnings for the malformed rules.
 */
class CidrPostmapDifferentialTest {
    @TempDir
    Path dir;

    static final String TABLE = """
            # comments and blank lines are ignored

            192.0.2.1            exact host
            192.0.2.0/24         the documentation net
            !198.51.100.0/24     everything else but 198.51.100/24
            10.0.0.0/8           ten
            IF 172.16.0.0/12
              # inside a block
              172.16.5.0/24      block: 172.16.5
              if !172.16.5.0/24
            172.16.9.9           nested, not 172.16.5
              endif
            172.17.0.0/16        block: 172.17
            ENDIF
            172.0.0.0/8          after the block
            2001:db8::/32        v6 documentation
            [2001:db8:1::1]      bracketed host (shadowed)
            [2001:db8:2::]/48    bracketed net (shadowed)
            fe80::/10            link local
            ::ffff:0:0/96        mapped
            ::1                  loopback v6
             continued
            0.0.0.0/0            v4 default
            # malformed rules, each skipped with a warning
            192.0.2.0/33         bad length
            192.0.2.1/24         host bits
            2001:db8::1/32       host bits v6
            192.0.2.0/2x         bad mask
            192.0.2            short
            192.0.2.300/32       bad net
            [192.0.2.1           unclosed
            [192.0.2.1]x         garbage
            192.0.2.7
            ENDIF
            endif garbage
            if
            iffy 1.2.3.4
            01.2.3.4             leading zero
            """;

    static final List<String> KEYS = List.of("192.0.2.1", "192.0.2.2", "192.0.2.255", "198.51.100.7",
            "203.0.113.9", "10.1.2.3", "10.255.255.255", "11.0.0.1", "172.16.5.1", "172.16.9.9", "172.16.9.8",
            "172.17.3.4", "172.18.0.1", "172.31.255.255", "172.32.0.1", "0.0.0.0", "255.255.255.255",
            "2001:db8::1", "2001:DB8:1::1", "2001:db8:2:0:0:0:0:5", "2001:db9::1", "fe80::1", "FE80::abcd",
            "febf:ffff::1", "fec0::1", "::ffff:192.0.2.1", "::1", "::2", "::", "1.2.3", "1.2.3.4.5", "01.2.3.4",
            "192.0.2.01", "[192.0.2.1]", "example.com", "", "1:2:3:4:5:6:7:8:9", "::ffff:1.2.3.4:5",
            "1::2::3", "192.0.2.1 ", "2001:db8::g", "12345::1", ":1::2", "1::2:", "::1.2.3.4");

    @Test
    void postmapAndEstafetaAnswerTheSame() throws Exception {
        Postmap.require();
        Path f = dir.resolve("client.cidr");
        Files.writeString(f, TABLE);
        FakePluginContext context = new FakePluginContext();
        LookupTable table = new CidrTableFactory().open(TableSpec.parse("cidr:" + f), context);
        List<String> postfixWarnings = null;
        List<String> mismatches = new ArrayList<>();
        int found = 0;
        for (String key : KEYS) {
            Postmap.Answer want = Postmap.query(key, "cidr:" + f);
            postfixWarnings = want.warnings();
            LookupResult got = table.lookup(key);
            LookupResult expected = want.value() == null ? LookupResult.notFound() : LookupResult.found(want.value());
            if (!expected.equals(got)) {
                mismatches.add("key \"" + key + "\": postmap " + expected + ", estafeta " + got);
            }
            found += want.value() == null ? 0 : 1;
        }
        assertEquals(List.of(), mismatches);
        assertTrue(found >= 15 && found < KEYS.size(), "the corpus exercises both outcomes: found " + found);
        assertEquals(postfixWarnings, context.warnings);
        assertTrue(context.warnings.size() >= 12, context.warnings.toString());
    }

    @Test
    void anIfWithoutEndifSkipsTheRestOfTheTableInBoth() throws Exception {
        Postmap.require();
        Path f = dir.resolve("open.cidr");
        Files.writeString(f, "10.0.0.0/8 ten\nif 192.168.0.0/16\n192.168.1.0/24 inner\n0.0.0.0/0 rest\n");
        FakePluginContext context = new FakePluginContext();
        LookupTable table = new CidrTableFactory().open(TableSpec.parse("cidr:" + f), context);
        for (String key : List.of("10.1.1.1", "192.168.1.1", "192.168.2.1", "8.8.8.8")) {
            Postmap.Answer want = Postmap.query(key, "cidr:" + f);
            assertEquals(want.value() == null ? LookupResult.notFound() : LookupResult.found(want.value()),
                    table.lookup(key), key);
            assertEquals(want.warnings(), context.warnings);
        }
    }
}
