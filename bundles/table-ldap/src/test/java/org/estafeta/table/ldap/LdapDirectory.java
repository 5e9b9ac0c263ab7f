package org.estafeta.table.ldap;

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
import org.estafeta.testing.ProcessRunner;

/**
 * The directory the LDAP tests share (entries for a private slapd) and Postfix's side of the comparison: the
 * real {@code postmap -c DIR -q KEY ldap:FILE} with a minimal main.cf in DIR.
 */
final class LdapDirectory {
    private LdapDirectory() {
    }

    /**
     * Users (inetOrgPerson: uid, mail, several mails), groups with member DNs (nested, one dangling), a group with
     * a terminal attribute, one with an LDAP URL, and an entry whose mail holds the filter's special characters.
     * Within an entry, attributes are written in the order the tables list them (see LdapTable's javadoc).
     */
    static final String LDIF = """
            dn: dc=example,dc=com
            objectClass: dcObject
            objectClass: organization
            o: Example
            dc: example

            dn: ou=people,dc=example,dc=com
            objectClass: organizationalUnit
            ou: people

            dn: ou=groups,dc=example,dc=com
            objectClass: organizationalUnit
            ou: groups

            dn: uid=alice,ou=people,dc=example,dc=com
            objectClass: inetOrgPerson
            uid: alice
            cn: Alice Smith
            sn: Smith
            mail: alice@example.com
            mail: alice.smith@example.com

            dn: uid=bob,ou=people,dc=example,dc=com
            objectClass: inetOrgPerson
            uid: bob
            cn: Bob Smith
            sn: Smith
            mail: bob@example.com

            dn: uid=carol,ou=people,dc=example,dc=com
            objectClass: inetOrgPerson
            uid: carol
            cn: Carol Jones
            sn: Jones
            mail: carol@example.net

            dn: uid=dave,ou=people,dc=example,dc=com
            objectClass: inetOrgPerson
            uid: dave
            cn: Dave Brown
            sn: Brown
            mail: dave@sub.example.com

            dn: uid=weird,ou=people,dc=example,dc=com
            objectClass: inetOrgPerson
            uid: weird
            cn: Weird
            sn: Weird
            mail: we*rd(x)\\y@example.com

            dn: cn=staff,ou=groups,dc=example,dc=com
            objectClass: groupOfNames
            objectClass: extensibleObject
            cn: staff
            mail: staff@example.com
            member: uid=alice,ou=people,dc=example,dc=com
            member: uid=bob,ou=people,dc=example,dc=com

            dn: cn=all,ou=groups,dc=example,dc=com
            objectClass: groupOfNames
            objectClass: extensibleObject
            cn: all
            mail: all@example.com
            member: cn=staff,ou=groups,dc=example,dc=com
            member: uid=carol,ou=people,dc=example,dc=com
            member: uid=ghost,ou=people,dc=example,dc=com

            dn: cn=remote,ou=groups,dc=example,dc=com
            objectClass: groupOfNames
            objectClass: extensibleObject
            cn: remote
            description: remote-list@lists.example.org
            mail: remote@example.com
            member: uid=alice,ou=people,dc=example,dc=com

            dn: cn=dyn,ou=groups,dc=example,dc=com
            objectClass: groupOfNames
            objectClass: extensibleObject
            cn: dyn
            mail: dyn@example.com
            member: uid=dave,ou=people,dc=example,dc=com
            labeledURI: ldap:///ou=people,dc=example,dc=com?mail?one?(uid=b*)
            """;

    /** What Postfix answered: a value, not found (null), or a temporary failure ("query error"). */
    record Answer(String value, boolean temporary) {
        LookupResult asResult() {
            return temporary ? LookupResult.temporaryFailure("") : value == null ? LookupResult.notFound()
                    : LookupResult.found(value);
        }
    }

    /** {@code postmap -c DIR -q KEY ldap:FILE}; fails the test on an answer that is none of the three. */
    static Answer postmap(Path configDir, String key, Path file) throws Exception {
        ProcessRunner.Result r = ProcessRunner.run(List.of(Postmap.POSTMAP, "-c", configDir.toString(), "-q", key,
                "ldap:" + file), 30);
        if (r.exit() == 0) {
            if (!r.stdout().endsWith("\n")) {
                throw new AssertionError("postmap output without newline: " + r.output());
            }
            return new Answer(r.stdout().substring(0, r.stdout().length() - 1), false);
        }
        if (r.exit() == 1 && r.stderr().contains("fatal: table ldap:" + file + ": query error")) {
            return new Answer(null, true);
        }
        if (r.exit() == 1 && !r.stderr().contains("fatal:")) {
            return new Answer(null, false);
        }
        throw new AssertionError("postmap -q " + key + " ldap:" + file + " exited " + r.exit() + ": " + r.output());
    }

    /** A config dir for postmap -c: a main.cf that keeps postmap from looking up this host's names. */
    static Path postfixConfig(Path dir) throws Exception {
        Path d = Files.createDirectories(dir.resolve("postfix"));
        Files.writeString(d.resolve("main.cf"), "compatibility_level = 3.6\nmyhostname = localhost.localdomain\n"
                + "mydomain = localdomain\n");
        return d;
    }

    /** Our answer, with a temporary failure's reason dropped (Postfix's differs in wording). */
    static LookupResult ours(LookupTable table, String key) {
        LookupResult r = table.lookup(key);
        return r instanceof LookupResult.TemporaryFailure ? LookupResult.temporaryFailure("") : r;
    }

    static LookupTable open(Path file, FakePluginContext context) throws TableOpenException {
        return new LdapTableFactory().open(TableSpec.parse("ldap:" + file), context);
    }

    /** Every key of {@code keys} through postmap and through our table; the differences, as readable lines. */
    static List<String> compare(Path configDir, Path file, LookupTable table, List<String> keys, int[] outcomes)
            throws Exception {
        List<String> mismatches = new ArrayList<>();
        for (String key : keys) {
            Answer want = postmap(configDir, key, file);
            LookupResult expected = want.asResult();
            LookupResult got = ours(table, key);
            if (!expected.equals(got)) {
                mismatches.add(file.getFileName() + ": key \"" + key + "\": postmap " + expected + ", estafeta " + got);
            }
            outcomes[want.temporary() ? 2 : want.value() == null ? 1 : 0]++;
        }
        return mismatches;
    }
}
