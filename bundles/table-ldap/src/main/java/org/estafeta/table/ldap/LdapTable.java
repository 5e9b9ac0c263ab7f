package org.estafeta.table.ldap;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.naming.AuthenticationException;
import javax.naming.CommunicationException;
import javax.naming.InvalidNameException;
import javax.naming.NameNotFoundException;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.ReferralException;
import javax.naming.ServiceUnavailableException;
import javax.naming.SizeLimitExceededException;
import javax.naming.TimeLimitExceededException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InvalidSearchFilterException;
import javax.naming.directory.SearchControls;
import javax.naming.directory.SearchResult;
import javax.naming.ldap.LdapName;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableSpec;

/**
 * One open {@code ldap:} table: Postfix's dict_ldap lookup. The key is folded to lower case (as Postfix folds
 * the keys of its fixed-string tables), checked against {@code domain}, expanded into {@code search_base} and
 * {@code query_filter} (quoted, so that a key can only ever match itself); the values of the result attributes
 * of every entry found are formatted with {@code result_format} and joined with commas; DN values of
 * {@code special_result_attribute} are searched in turn (LDAP URLs too) up to {@code recursion_limit}.
 *
 * <p>Values of different attributes of one entry are listed in the order of the parameters (terminal, leaf,
 * ordinary, special; each in the order written), where Postfix lists them in the order the server sends them;
 * values of one attribute and the entries themselves keep the server's order.
 *
 * <p><b>Errors:</b> an unreachable server, a refused bind, a timeout or any other search error is a
 * {@link LookupResult.TemporaryFailure} with a warning naming the table; the connection is dropped and the next
 * lookup connects again. A pooled connection that turns out to be dead is replaced once within the same lookup
 * (Postfix's "reconnect immediately after a single failure"). Exceeding {@code size_limit},
 * {@code expansion_limit} or {@code recursion_limit} is a temporary failure too, as in Postfix.
 *
 * <p><b>Threading:</b> safe for concurrent lookups, each on its own connection. <b>Blocking:</b> network I/O,
 * each wait bounded by {@code timeout}.
 */
final class LdapTable implements LookupTable {
    private static final Pattern LDAP_ERROR = Pattern.compile("\\[LDAP: error code (\\d+) - ([^\\]]*)\\]");

    /** ldap_err2string() of OpenLDAP for the codes a lookup meets, as Postfix prints them. */
    private static final Map<Integer, String> OPENLDAP_TEXTS = Map.ofEntries(Map.entry(1, "Operations error"),
            Map.entry(2, "Protocol error"), Map.entry(3, "Time limit exceeded"), Map.entry(4, "Size limit exceeded"),
            Map.entry(10, "Referral"), Map.entry(11, "Administrative limit exceeded"),
            Map.entry(32, "No such object"), Map.entry(34, "Invalid DN syntax"),
            Map.entry(48, "Inappropriate authentication"), Map.entry(49, "Invalid credentials"),
            Map.entry(50, "Insufficient access"), Map.entry(51, "Server is busy"),
            Map.entry(52, "Server is unavailable"), Map.entry(53, "Server is unwilling to perform"),
            Map.entry(80, "Internal (implementation specific) error"));

    private final TableSpec spec;
    private final LdapSettings s;
    private final LdapConnections connections;
    private final System.Logger log;

    LdapTable(TableSpec spec, LdapSettings settings, System.Logger log) {
        this.spec = spec;
        this.s = settings;
        this.connections = new LdapConnections(settings);
        this.log = log;
    }

    /** A lookup that must end as a temporary failure; its warning has been logged. */
    private static final class Failed extends Exception {
        private static final long serialVersionUID = 1L;

        Failed(String reason) {
            super(reason, null, false, false);
        }
    }

    /** What one lookup accumulates across its (recursive) searches. */
    private static final class Expansion {
        final String key;
        final StringBuilder result = new StringBuilder();
        int count;

        Expansion(String key) {
            this.key = key;
        }
    }

    @Override
    public LookupResult lookup(String key) {
        String name = key.toLowerCase(Locale.ROOT);
        if (s.domains != null) {
            int at = name.lastIndexOf('@');
            if (at <= 0 || !s.domains.matches(name.substring(at + 1))) {
                return LookupResult.notFound();
            }
        }
        String base = s.templates.expandQuery(s.searchBase, name, LdapQuoting::dnValue, this::warn);
        if (base == null) {
            return LookupResult.notFound();
        }
        String filter = s.templates.expandQuery(s.queryFilter, name, LdapQuoting::filterValue, this::warn);
        if (filter == null) {
            return LookupResult.notFound();
        }
        LdapName dn;
        try {
            dn = new LdapName(base);
        } catch (InvalidNameException e) {
            return fail("Search error 34: Invalid DN syntax: " + base);
        }
        Thread t = Thread.currentThread();
        ClassLoader saved = t.getContextClassLoader();
        t.setContextClassLoader(LdapConnections.PROVIDER_LOADER);
        try {
            return search(name, dn, base, filter);
        } finally {
            t.setContextClassLoader(saved);
        }
    }

    /** The search and its recursive searches, on one connection; runs with the provider's context class loader. */
    private LookupResult search(String name, LdapName dn, String base, String filter) {
        for (int attempt = 0;; attempt++) {
            boolean[] fresh = new boolean[1];
            DirContext ctx;
            try {
                ctx = connections.take(fresh);
            } catch (NamingException e) {
                if (e instanceof AuthenticationException || ldapCode(e) == 49) {
                    return fail("Unable to bind to server " + String.join(" ", s.servers) + " with dn "
                            + (s.bindDn.isEmpty() ? "empty or implicit" : s.bindDn) + ": " + describe(e));
                }
                return fail("Unable to connect to LDAP server " + String.join(" ", s.servers) + ": " + describe(e));
            }
            Expansion x = new Expansion(name);
            try {
                NamingEnumeration<SearchResult> found;
                try {
                    found = ctx.search(dn, filter, limited(controls(s.scope, s.attributes)));
                } catch (NameNotFoundException e) {
                    connections.give(ctx);
                    if (s.dynamicBase) {
                        // a search base made from the key that does not exist: the key is not in the table
                        return LookupResult.notFound();
                    }
                    return fail("Search base '" + base + "' not found: 32: No such object");
                }
                values(ctx, found, 1, x);
                connections.give(ctx);
                return x.result.length() > 0 ? LookupResult.found(x.result.toString()) : LookupResult.notFound();
            } catch (Failed f) {
                connections.give(ctx);
                return LookupResult.temporaryFailure(spec + ": " + f.getMessage());
            } catch (NamingException e) {
                connections.discard(ctx);
                if (!fresh[0] && attempt == 0 && isConnectionLoss(e)) {
                    continue; // a pooled connection the server has closed: connect again, once
                }
                return fail("Search error " + describe(e));
            } catch (RuntimeException e) {
                connections.discard(ctx);
                throw e;
            }
        }
    }

    private static SearchControls controls(int scope, String[] attributes) {
        SearchControls c = new SearchControls();
        c.setSearchScope(scope);
        c.setReturningAttributes(attributes);
        return c;
    }

    private SearchControls limited(SearchControls c) {
        c.setCountLimit(s.sizeLimit);
        c.setTimeLimit(s.timeout * 1000);
        return c;
    }

    /** Postfix's dict_ldap_get_values(): the result values of each entry found, recursing into DNs and URLs. */
    private void values(DirContext ctx, NamingEnumeration<SearchResult> found, int depth, Expansion x)
            throws NamingException, Failed {
        long entries = 0;
        try {
            while (found.hasMore()) {
                SearchResult entry = found.next();
                if (s.sizeLimit > 0 && ++entries > s.sizeLimit) {
                    throw failed("Query size limit (" + s.sizeLimit + ") exceeded");
                }
                entry(ctx, entry.getAttributes(), depth, x);
            }
        } catch (ReferralException e) {
            // continuation references are not followed (chase_referrals = no), as Postfix ignores them
        } finally {
            found.close();
        }
    }

    private void entry(DirContext ctx, Attributes attrs, int depth, Expansion x) throws NamingException, Failed {
        boolean terminal = false;
        for (int i = 0; i < s.numTerminal && !terminal; i++) {
            terminal = hasValues(attrs.get(s.attributes[i]));
        }
        boolean leaf = true;
        if (!terminal && s.numLeaf > 0) {
            for (int i = s.numAttributes; i < s.attributes.length && leaf; i++) {
                leaf = !hasValues(attrs.get(s.attributes[i]));
            }
        }
        record Returned(int index, Attribute attribute) {
        }
        List<Returned> returned = new ArrayList<>();
        NamingEnumeration<? extends Attribute> all = attrs.getAll();
        while (all.hasMore()) {
            Attribute a = all.next();
            int i = 0;
            while (i < s.attributes.length && !isSubtype(s.attributes[i], a.getID())) {
                i++;
            }
            returned.add(new Returned(i, a));
        }
        returned.sort(Comparator.comparingInt(Returned::index));
        for (Returned r : returned) {
            int i = r.index();
            Attribute a = r.attribute();
            if (!hasValues(a)) {
                continue;
            }
            if (i < s.numAttributes || terminal) {
                if (terminal && i >= s.numTerminal || !leaf && i < s.numTerminal + s.numLeaf) {
                    continue; // a non-terminal attribute of a terminal entry, or a leaf-only one of a group
                }
                for (int v = 0; v < a.size(); v++) {
                    if (s.templates.appendResult(x.result, s.resultFormat, text(a.get(v)), x.key, this::warn)
                            && s.expansionLimit > 0 && ++x.count > s.expansionLimit) {
                        throw failed("Expansion limit exceeded for key: '" + x.key + "'");
                    }
                }
            } else if (i < s.attributes.length) {
                if (depth >= s.recursionLimit) {
                    throw failed("Recursion limit exceeded for special attribute " + a.getID() + "=" + text(a.get(0)));
                }
                for (int v = 0; v < a.size(); v++) {
                    follow(ctx, text(a.get(v)), depth, x);
                }
            }
        }
    }

    /** Searches the entry a special attribute's value names: a DN, or an LDAP URL. */
    private void follow(DirContext ctx, String value, int depth, Expansion x) throws NamingException, Failed {
        NamingEnumeration<SearchResult> found;
        LdapUrl url = LdapUrl.parse(value);
        if (url == LdapUrl.MALFORMED) {
            throw failed("malformed URL " + value);
        }
        try {
            if (url != null) {
                String[] attrs = url.attributesFor(s.attributes);
                if (attrs == null) {
                    return; // the URL selects none of our result attributes
                }
                found = ctx.search(new LdapName(url.dn()), url.filter(), limited(controls(url.scope(), attrs)));
            } else {
                found = ctx.search(new LdapName(value), "objectclass=*",
                        limited(controls(SearchControls.OBJECT_SCOPE, s.attributes)));
            }
            values(ctx, found, depth + 1, x);
        } catch (NameNotFoundException e) {
            // treated as an entry without result attributes
            warn("DN " + value + " not found, skipping");
        } catch (InvalidNameException e) {
            throw failed("search error 34: Invalid DN syntax: " + value);
        } catch (CommunicationException | ServiceUnavailableException e) {
            throw e;
        } catch (NamingException e) {
            throw failed("search error " + describe(e));
        }
    }

    /** RFC 4512 attribute descriptions: {@code configured} equals {@code returned} or is its base type. */
    static boolean isSubtype(String configured, String returned) {
        int n = configured.length();
        return returned.regionMatches(true, 0, configured, 0, n)
                && (returned.length() == n || returned.charAt(n) == ';');
    }

    private static boolean hasValues(Attribute a) {
        return a != null && a.size() > 0;
    }

    private static String text(Object value) {
        return value instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(value);
    }

    private static boolean isConnectionLoss(NamingException e) {
        return e instanceof CommunicationException || e instanceof ServiceUnavailableException;
    }

    private static int ldapCode(NamingException e) {
        Matcher m = LDAP_ERROR.matcher(String.valueOf(e.getMessage()));
        return m.find() ? Integer.parseInt(m.group(1)) : Integer.MIN_VALUE;
    }

    /** OpenLDAP's {@code code: text} for a JNDI exception, as Postfix prints {@code rc} and ldap_err2string(). */
    static String describe(NamingException e) {
        Matcher m = LDAP_ERROR.matcher(String.valueOf(e.getMessage()));
        if (m.find()) {
            int code = Integer.parseInt(m.group(1));
            return code + ": " + OPENLDAP_TEXTS.getOrDefault(code, m.group(2).trim());
        }
        Throwable root = e.getRootCause() != null ? e.getRootCause() : e.getCause();
        String why = root != null && root.getMessage() != null ? " (" + root.getMessage() + ")" : "";
        if (e instanceof CommunicationException || e instanceof ServiceUnavailableException) {
            return "-1: Can't contact LDAP server" + why;
        }
        if (e instanceof SizeLimitExceededException) {
            return "4: Size limit exceeded";
        }
        if (e instanceof TimeLimitExceededException) {
            return "3: Time limit exceeded";
        }
        if (e instanceof InvalidSearchFilterException) {
            return "-7: Bad search filter (" + e.getMessage() + ")";
        }
        String msg = String.valueOf(e.getMessage());
        if (msg.toLowerCase(Locale.ROOT).contains("timed out")) {
            return "-5: Timed out (" + msg + ")";
        }
        return "-1: " + msg + why;
    }

    private Failed failed(String why) {
        warn(why);
        return new Failed(why);
    }

    private LookupResult fail(String why) {
        warn(why);
        return LookupResult.temporaryFailure(spec + ": " + why);
    }

    private void warn(String what) {
        log.log(System.Logger.Level.WARNING, spec + ": " + what);
    }

    @Override
    public void close() {
        connections.close();
    }

    @Override
    public String toString() {
        return spec.toString();
    }
}
