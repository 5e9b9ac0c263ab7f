package org.estafeta.table.ldap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;

import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import javax.naming.directory.SearchControls;
import javax.naming.directory.SearchResult;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.testing.FakePluginContext;
import org.estafeta.testing.Postmap;
import org.estafeta.testing.PrivateSlapd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same ldap_table(5) files and the same keys through Debian's {@code postmap -q} (postfix-ldap) and through
 * this bundle, both asking one private slapd: the same value, the same "not found" or the same temporary failure
 * for every key.
 */
class LdapPostmapDifferentialTest {
    static PrivateSlapd slapd;
    static Path postfix;

    @TempDir
    static Path dir;

    /** The keys that try to widen a search with filter syntax: each must find nothing, in both. */
    static final List<String> INJECTIONS = List.of("*", "*@example.com", "al*", "alice@example.com)(uid=*",
            "*)(|(mail=*", "*)(mail=*", "(", ")", "\\", "\\2a@example.com", "alice@example.com\\", "we*@example.com",
            "*rd(x)\\y@example.com", "alice@example.com)(objectClass=*");

    static final List<String> ADDRESSES = List.of("alice@example.com", "ALICE@Example.COM", "alice.smith@example.com",
            "bob@example.com", "carol@example.net", "carol@example.com", "dave@sub.example.com", "nobody@example.com",
            "alice", "alice@", "@example.com", "example.com", "alice@example.org", "alice smith@example.com",
            "we*rd(x)\\y@example.com", "staff@example.com", "all@example.com", "remote@example.com", "dyn@example.com",
            "smith", "Smith@example.com", "x@foo.org", "alice@com", "a@b@example.com");

    /** Fewer keys where many answers are temporary failures: postmap sleeps a second before a fatal exit. */
    static final List<String> LIMIT_KEYS = List.of("alice@example.com", "bob@example.com", "smith", "staff@example.com",
            "all@example.com", "nobody@example.com", "carol@example.net", "alice");

    @BeforeAll
    static void startSlapd() throws Exception {
        Postmap.require();
        assumeTrue(PrivateSlapd.availableOrFail());
        slapd = PrivateSlapd.builder("table-ldap-diff").address("127.0.0.45").ldif(LdapDirectory.LDIF).start();
        postfix = LdapDirectory.postfixConfig(dir);
    }

    @AfterAll
    static void stopSlapd() {
        if (slapd != null) {
            slapd.close();
        }
    }

    private Path table(String name, String body) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, "server_host = " + slapd.url() + "/\nversion = 3\nbind = no\n" + body);
        return f;
    }

    private void sameAnswers(Path file, List<String> keys, int minFound, int minNotFound, int minTemporary)
            throws Exception {
        FakePluginContext context = new FakePluginContext();
        try (LookupTable table = LdapDirectory.open(file, context)) {
            int[] outcomes = new int[3];
            List<String> mismatches = LdapDirectory.compare(postfix, file, table, keys, outcomes);
            assertEquals(List.of(), mismatches);
            assertTrue(outcomes[0] >= minFound && outcomes[1] >= minNotFound && outcomes[2] >= minTemporary,
                    file.getFileName() + ": found/not found/temporary " + outcomes[0] + "/" + outcomes[1] + "/"
                            + outcomes[2]);
        }
    }

    private static List<String> plus(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @Test
    void mailToUidWithInjectionAttempts() throws Exception {
        Path f = table("users.cf", """
                search_base = dc=example,dc=com
                query_filter = (mail=%s)
                result_attribute = uid
                """);
        sameAnswers(f, plus(ADDRESSES, INJECTIONS), 7, 20, 0);
        LookupTable t = LdapDirectory.open(f, new FakePluginContext());
        assertEquals(LookupResult.found("weird"), t.lookup("we*rd(x)\\y@example.com"), "a key with * ( ) \\ matches itself");
        for (String key : INJECTIONS) {
            assertEquals(LookupResult.notFound(), t.lookup(key), key);
        }
        t.close();
    }

    /**
     * Classic filter injections against {@code (&(mail=%s)(objectClass=inetOrgPerson))}: pasted into the filter
     * unquoted, each key matches entries (checked here with a direct search); through postmap and through this
     * table, each finds nothing.
     */
    @Test
    void filterInjectionsCannotWidenTheSearch() throws Exception {
        String template = "(&(mail=%s)(objectClass=inetOrgPerson))";
        List<String> keys = List.of("*", "*@example.com", "al*", "*)(objectClass=*", "*)(|(uid=*)",
                "we*rd\\28x\\29\\5cy@example.com", "alice*)(!(uid=nobody)");
        Hashtable<String, Object> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.ldap.LdapCtxFactory");
        env.put(Context.PROVIDER_URL, slapd.url());
        DirContext ctx = new InitialDirContext(env);
        SearchControls sc = new SearchControls();
        sc.setSearchScope(SearchControls.SUBTREE_SCOPE);
        try {
            for (String key : keys) {
                NamingEnumeration<SearchResult> e = ctx.search("dc=example,dc=com", template.replace("%s", key), sc);
                int n = 0;
                while (e.hasMore()) {
                    e.next();
                    n++;
                }
                assertTrue(n >= 1, "unquoted, " + key + " matches " + n + " entries");
            }
        } finally {
            ctx.close();
        }
        Path f = table("injection.cf", "search_base = dc=example,dc=com\nquery_filter = " + template
                + "\nresult_attribute = uid\n");
        FakePluginContext context = new FakePluginContext();
        try (LookupTable t = LdapDirectory.open(f, context)) {
            for (String key : keys) {
                assertEquals(LookupResult.notFound(), t.lookup(key), key);
                assertEquals(new LdapDirectory.Answer(null, false), LdapDirectory.postmap(postfix, key, f), key);
            }
            assertEquals(LookupResult.found("alice"), t.lookup("alice@example.com"));
        }
        assertEquals(List.of(), context.warnings);
    }

    @Test
    void localPartAndDomainRestriction() throws Exception {
        Path f = table("mailboxes.cf", """
                search_base = ou=people,dc=example,dc=com
                scope = one
                query_filter = (&(objectClass=inetOrgPerson)(uid=%u))
                result_attribute = mail
                domain = example.com, EXAMPLE.net, !sub.example.com
                """);
        sameAnswers(f, plus(ADDRESSES, INJECTIONS), 5, 20, 0);
        Path domains = dir.resolve("domains");
        Files.writeString(domains, "# domains searched\nexample.net\n  Example.COM, other.example\n");
        Path fromFile = table("mailboxes-file.cf", """
                search_base = ou=people,dc=example,dc=com
                query_filter = (uid=%u)
                result_attribute = mail
                result_filter = <%s>
                domain = !example.net,\s""" + domains + "\n");
        sameAnswers(fromFile, ADDRESSES, 3, 15, 0);
    }

    @Test
    void domainPartsAndDynamicSearchBase() throws Exception {
        Path f = table("parts.cf", """
                search_base = ou=people,dc=%2,dc=%1
                query_filter = (&(uid=%u)(mail=*@%d))
                result_attribute = uid
                """);
        sameAnswers(f, ADDRESSES, 3, 15, 0);
    }

    @Test
    void searchBaseFromTheKeyIsQuoted() throws Exception {
        Path f = table("base.cf", """
                search_base = uid=%u,ou=people,dc=example,dc=com
                scope = base
                query_filter = (objectClass=*)
                result_attribute = mail
                """);
        sameAnswers(f, plus(ADDRESSES, List.of("alice,ou=people@example.com", "bob+cn=x@example.com",
                "bob\\,x@example.com", "#bob@example.com", " bob@example.com", "bob;x@example.com")), 3, 15, 0);
    }

    @Test
    void groupsFollowMemberDns() throws Exception {
        Path f = table("groups.cf", """
                search_base = dc=example,dc=com
                query_filter = (mail=%s)
                result_attribute = mail
                special_result_attribute = member, labeledURI
                """);
        sameAnswers(f, ADDRESSES, 8, 10, 0);
        FakePluginContext context = new FakePluginContext();
        LookupTable t = LdapDirectory.open(f, context);
        assertEquals(LookupResult.found("all@example.com,staff@example.com,alice@example.com,"
                + "alice.smith@example.com,bob@example.com,carol@example.net"), t.lookup("all@example.com"));
        assertTrue(context.warnings.toString().contains("DN uid=ghost,ou=people,dc=example,dc=com not found"),
                context.warnings.toString());
        assertEquals(LookupResult.found("dyn@example.com,dave@sub.example.com,bob@example.com"),
                t.lookup("dyn@example.com"), "member DN, then the LDAP URL");
        t.close();
    }

    @Test
    void leafAndTerminalAttributes() throws Exception {
        Path f = table("leaf.cf", """
                search_base = dc=example,dc=com
                query_filter = (mail=%s)
                result_attribute =
                leaf_result_attribute = mail
                special_result_attribute = member
                terminal_result_attribute = description
                """);
        sameAnswers(f, ADDRESSES, 7, 10, 0);
        LookupTable t = LdapDirectory.open(f, new FakePluginContext());
        assertEquals(LookupResult.found("remote-list@lists.example.org"), t.lookup("remote@example.com"));
        assertEquals(LookupResult.found("alice@example.com,alice.smith@example.com,bob@example.com"),
                t.lookup("staff@example.com"));
        t.close();
    }

    @Test
    void resultFormatWithKeyAndValueParts() throws Exception {
        Path f = table("format.cf", """
                search_base = dc=example,dc=com
                query_filter = (uid=%u)
                result_attribute = mail
                result_format = %U via relay:[%d] for %s (%1) 100%%
                """);
        sameAnswers(f, ADDRESSES, 4, 15, 0);
    }

    @Test
    void limitsAreTemporaryFailures() throws Exception {
        Path expansion = table("expansion.cf", """
                search_base = dc=example,dc=com
                query_filter = (|(mail=%s)(sn=%s))
                result_attribute = mail
                expansion_limit = 1
                """);
        sameAnswers(expansion, LIMIT_KEYS, 3, 2, 2);
        Path size = table("size.cf", """
                search_base = dc=example,dc=com
                query_filter = (|(mail=%s)(sn=%s))
                result_attribute = mail
                expansion_limit = 5
                size_limit = 1
                """);
        sameAnswers(size, LIMIT_KEYS, 3, 2, 1);
        Path recursion = table("recursion.cf", """
                search_base = dc=example,dc=com
                query_filter = (mail=%s)
                result_attribute = mail
                special_result_attribute = member
                recursion_limit = 2
                """);
        sameAnswers(recursion, LIMIT_KEYS, 3, 2, 1);
    }

    @Test
    void postfixDefaultsBindAsRootAndOtherServerSyntax() throws Exception {
        // version and bind left at Postfix's defaults (2 and yes: an anonymous bind); the server as host:port
        Path defaults = dir.resolve("defaults.cf");
        Files.writeString(defaults, "server_host = " + slapd.address() + ":" + slapd.port() + "\n"
                + "search_base = dc=example,dc=com\nquery_filter = mail=%s\nresult_attribute = uid\n");
        sameAnswers(defaults, ADDRESSES, 5, 10, 0);
        Path root = dir.resolve("root.cf");
        Files.writeString(root, "server_host = " + slapd.address() + "\n"
                + "server_port = " + slapd.port() + "\ntimeout = 5\nversion = 3\nbind = yes\n"
                + "bind_dn = cn=admin,dc=example,dc=com\nbind_pw = secret\n"
                + "search_base = dc=example,dc=com\nquery_filter = (uid=%u)\nresult_attribute = mail\n");
        sameAnswers(root, LIMIT_KEYS, 4, 2, 0);
        Path wrong = dir.resolve("wrong.cf");
        Files.writeString(wrong, Files.readString(root).replace("bind_pw = secret", "bind_pw = wrong"));
        sameAnswers(wrong, List.of("alice@example.com", "bob@example.com"), 0, 0, 2);
    }
}
